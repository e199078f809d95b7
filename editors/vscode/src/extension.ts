// The routec extension: starts `routec lsp` and connects VS Code to it.
// Everything else (diagnostics, hover, completion, navigation, rename,
// formatting, quick fixes, semantic tokens) comes from the server; the
// highlighting from the TextMate grammar in syntaxes/.

import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration("routec");
  const command = config.get<string>("server.path", "routec");
  const serverOptions: ServerOptions = {
    command,
    args: ["lsp"],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "route" },
      { scheme: "untitled", language: "route" },
    ],
    synchronize: {
      // Imported files that change on disk invalidate the policies using them.
      fileEvents: vscode.workspace.createFileSystemWatcher("**/*.route"),
    },
    initializationOptions: {
      debounceMs: config.get<number>("server.debounceMs", 0),
    },
  };
  client = new LanguageClient("routec", "routec", serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand("routec.restartServer", async () => {
      await client?.restart();
    }),
  );
  try {
    await client.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(
      `Could not start \`${command} lsp\`: ${message}. Set "routec.server.path" to the routec executable.`,
    );
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}
