// Checks the TextMate grammar (grammar/route.tmLanguage.json) against the
// pest grammar and every `.route` file in the repository, with the
// tokenizer VS Code itself uses (vscode-textmate + vscode-oniguruma).
//
//   npm ci && npm run check-grammar
//
// It fails when:
//  1. a keyword of grammar/route.pest (every `k_*` rule and the reserved
//     words) is not tokenised as a keyword on its own;
//  2. in any example or test policy, a line leaves the tokenizer in a
//     nested state (nothing in the language spans lines);
//  3. a comment, a string, a keyword (outside a path, a declared name or
//     a diagnostic code), or a clock time is not
//     given its scope (comment.*, string.*, keyword.*|storage.*|constant.language.*,
//     constant.numeric.time.*).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import vsctm from "vscode-textmate";
import oniguruma from "vscode-oniguruma";

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..", "..");

const wasm = readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
await oniguruma.loadWASM(wasm);
const registry = new vsctm.Registry({
  onigLib: Promise.resolve({
    createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
    createOnigString: (s) => new oniguruma.OnigString(s),
  }),
  loadGrammar: async (scopeName) => {
    if (scopeName !== "source.route") return null;
    const path = join(repo, "grammar", "route.tmLanguage.json");
    return vsctm.parseRawGrammar(readFileSync(path, "utf8"), path);
  },
});
const grammar = await registry.loadGrammar("source.route");
// The state between two lines of a language where nothing spans lines.
const TOP_LEVEL = grammar.tokenizeLine("", vsctm.INITIAL).ruleStack;

/** Tokens of each line: [{ start, end, scopes }], and whether every line ends at the top level. */
function tokenize(text) {
  let stack = vsctm.INITIAL;
  const lines = [];
  const nested = [];
  text.split("\n").forEach((line, n) => {
    const result = grammar.tokenizeLine(line, stack);
    if (result.stoppedEarly) throw new Error(`tokenizing stopped early at line ${n + 1}`);
    const tokens = result.tokens.map((t, i) => ({
      start: t.startIndex,
      end: i + 1 < result.tokens.length ? result.tokens[i + 1].startIndex : line.length,
      scopes: t.scopes,
    }));
    lines.push({ line, tokens });
    stack = result.ruleStack;
    if (!stack.equals(TOP_LEVEL)) {
      nested.push(n + 1);
      stack = vsctm.INITIAL;
    }
  });
  return { lines, nested };
}

const scopesAt = (tokens, col) => tokens.find((t) => t.start <= col && col < t.end)?.scopes ?? [];
const has = (scopes, prefixes) => scopes.some((s) => prefixes.some((p) => s.startsWith(p)));
const KEYWORD = ["keyword.", "storage.", "constant.language."];

// 1. Keywords of the pest grammar.
const pest = readFileSync(join(repo, "grammar", "route.pest"), "utf8");
const keywords = new Set();
for (const line of pest.split("\n")) {
  const rule = line.match(/^(k_\w+|reserved|bool_lit)\s*=/);
  if (!rule) continue;
  for (const word of line.matchAll(/"([a-z_]+)"/g)) keywords.add(word[1]);
}
const failures = [];
for (const word of keywords) {
  const { lines } = tokenize(word);
  if (!has(scopesAt(lines[0].tokens, 0), KEYWORD)) failures.push(`keyword \`${word}\` of route.pest is not highlighted as a keyword`);
}

// 2 and 3. Every policy in the repository.
function routeFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name.startsWith(".") || name === "node_modules" || name === "target") continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) routeFiles(path, out);
    else if (name.endsWith(".route")) out.push(path);
  }
  return out;
}

const files = routeFiles(repo);
let lineCount = 0;
for (const path of files) {
  const name = relative(repo, path);
  const { lines, nested } = tokenize(readFileSync(path, "utf8"));
  for (const n of nested) failures.push(`${name}:${n}: the line leaves the tokenizer inside a construct`);
  lines.forEach(({ line, tokens }, i) => {
    lineCount += 1;
    const where = (col) => `${name}:${i + 1}:${col + 1}`;
    // A simple lexer for the facts to check: strings, comments, words, clock times.
    let col = 0;
    while (col < line.length) {
      const rest = line.slice(col);
      if (rest[0] === '"') {
        const close = rest.slice(1).search(/(?<!\\)"/);
        const end = close < 0 ? line.length : col + close + 2;
        for (let c = col; c < end; c++) {
          if (!has(scopesAt(tokens, c), ["string."])) {
            failures.push(`${where(c)}: string text without a string scope`);
            break;
          }
        }
        col = end;
      } else if (rest[0] === "#") {
        if (!has(scopesAt(tokens, col), ["comment."])) failures.push(`${where(col)}: comment without a comment scope`);
        break;
      } else if (/^[A-Za-z_]/.test(rest)) {
        const word = rest.match(/^[A-Za-z_][A-Za-z0-9_]*/)[0];
        const inPath = line[col - 1] === "." || line[col + word.length] === ".";
        // A keyword can be a name (`rule handoff when …`) or part of a diagnostic code.
        const named = has(scopesAt(tokens, col), ["entity.name.", "constant.other.diagnostic-code."]);
        if (keywords.has(word) && !inPath && !named && !has(scopesAt(tokens, col), KEYWORD)) {
          failures.push(`${where(col)}: keyword \`${word}\` is not highlighted as a keyword`);
        }
        col += word.length;
      } else if (/^[0-9]+:[0-9]+/.test(rest)) {
        if (!has(scopesAt(tokens, col), ["constant.numeric.time."])) failures.push(`${where(col)}: a clock time without its scope`);
        col += rest.match(/^[0-9]+:[0-9]+/)[0].length;
      } else {
        col += 1;
      }
    }
  });
}

if (failures.length > 0) {
  console.error(failures.slice(0, 50).join("\n"));
  console.error(`${failures.length} problem(s)`);
  process.exit(1);
}
console.log(`ok: ${keywords.size} keywords of route.pest, ${files.length} policies (${lineCount} lines) tokenised`);
