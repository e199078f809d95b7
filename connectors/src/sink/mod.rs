//! Action sinks: one module per vendor that a policy's actions reach
//! (`notify slack`, `notify email`, `create_issue jira|linear`).
