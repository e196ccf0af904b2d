//! Workflow definitions: the file format (typed, `deny_unknown_fields`), loading a directory of
//! workflows, forms and templates, and every load-time check. A [`Workflow`] that exists has passed
//! them all.
