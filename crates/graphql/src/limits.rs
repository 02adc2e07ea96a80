//! Limits on what one GraphQL document may ask, checked before it runs: async-graphql's depth,
//! complexity, recursion and directive limits, and [`DocumentLimits`] for the query text, the
//! variables and the aliases. What a limit refuses is `BAD_USER_INPUT`, with a message that
//! names the limit.

use std::io::Write;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

use crate::error::ErrorCode;

/// The limits of one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryLimits {
    /// The deepest nesting of fields.
    pub depth: usize,
    /// The largest cost: one per field, times the page size for connection fields (`first` or
    /// `last`, default 20) and the number of IDs for `nodes`.
    pub complexity: usize,
    /// The deepest nesting of selection sets and fragment spreads while parsing.
    pub recursive_depth: usize,
    /// The most directives on one field.
    pub directives: usize,
    /// The most aliased fields in the document.
    pub aliases: usize,
    /// The longest query text, in bytes.
    pub query_bytes: usize,
    /// The largest variables object, in bytes of JSON.
    pub variables_bytes: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            depth: 15,
            complexity: 10_000,
            recursive_depth: 32,
            directives: 5,
            aliases: 100,
            query_bytes: 32 * 1024,
            variables_bytes: 256 * 1024,
        }
    }
}

/// The checks async-graphql has no setting for, run around parsing.
pub(crate) struct DocumentLimits(pub QueryLimits);

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimits(self.0))
    }
}

#[async_trait::async_trait]
impl Extension for DocumentLimits {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let limits = &self.0;
        if query.len() > limits.query_bytes {
            return Err(refused(format!(
                "the query is longer than {} bytes",
                limits.query_bytes
            )));
        }
        if !json_fits(variables, limits.variables_bytes) {
            return Err(refused(format!(
                "the variables are larger than {} bytes",
                limits.variables_bytes
            )));
        }
        let document = next.run(ctx, query, variables).await?;
        if aliases(&document) > limits.aliases {
            return Err(refused(format!(
                "the query has more than {} aliases",
                limits.aliases
            )));
        }
        Ok(document)
    }
}

fn refused(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", ErrorCode::BadUserInput.as_str());
    error
}

/// Whether `value` serializes to at most `limit` bytes of JSON; stops writing once it does not.
fn json_fits(value: &impl serde::Serialize, limit: usize) -> bool {
    struct Budget(usize);
    impl Write for Budget {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 = self
                .0
                .checked_sub(buf.len())
                .ok_or(std::io::ErrorKind::FileTooLarge)?;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(Budget(limit), value).is_ok()
}

/// The aliased fields written in the document (operations and fragment definitions).
fn aliases(document: &ExecutableDocument) -> usize {
    fn count(set: &SelectionSet) -> usize {
        set.items
            .iter()
            .map(|item| match &item.node {
                Selection::Field(field) => {
                    usize::from(field.node.alias.is_some()) + count(&field.node.selection_set.node)
                }
                Selection::InlineFragment(fragment) => count(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => 0,
            })
            .sum()
    }
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|fragment| count(&fragment.node.selection_set.node))
        .sum();
    operations + fragments
}

/// The cost of a connection field: its page size (`first` or `last`, default 20, as the
/// resolver clamps it) times the cost of one item, plus its own.
pub(crate) fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = last.or(first).map_or(20, |n| n.clamp(1, 100)) as usize;
    size.saturating_mul(child_complexity).saturating_add(1)
}

/// The cost of `nodes(ids:)`: one item per ID.
pub(crate) fn list_cost(len: usize, child_complexity: usize) -> usize {
    len.saturating_mul(child_complexity).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_aliases_in_operations_fragments_and_inline_fragments() {
        let query = "query { a: viewer { id } viewer { b: id ... on User { c: handle } } \
                     ...F } fragment F on Query { d: viewer { id } }";
        let document = async_graphql::parser::parse_query(query).expect("parses");
        assert_eq!(aliases(&document), 4);
    }

    #[test]
    fn variables_are_measured_as_json() {
        let value = serde_json::json!({ "body": "x".repeat(100) });
        let size = serde_json::to_vec(&value).expect("json").len();
        assert!(json_fits(&value, size));
        assert!(!json_fits(&value, size - 1));
    }

    #[test]
    fn connections_cost_their_page_size() {
        assert_eq!(page_cost(None, None, 3), 61);
        assert_eq!(page_cost(Some(100), None, 3), 301);
        assert_eq!(page_cost(None, Some(5), 3), 16);
        // Out-of-range sizes are refused by the resolver; they cost what they could at most.
        assert_eq!(page_cost(Some(1_000_000), None, 3), 301);
        assert_eq!(list_cost(100, 2), 201);
    }
}
