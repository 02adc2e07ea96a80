//! `schema.graphql` read as data, so that the sweeps cover every operation that exists: the
//! root fields of each operation type, every `ID` a mutation or root field takes, and a
//! selection of every field of a type, generated rather than written by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use async_graphql::parser::parse_schema;
use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};

/// The committed SDL; `contract.rs` proves it is the one the server prints.
const SDL: &str = include_str!("../../../schema.graphql");

/// A type as the sweeps need it: its name (of its items, for a list), and whether it may be
/// null.
#[derive(Debug, Clone)]
pub struct Ty {
    pub name: String,
    pub nullable: bool,
}

impl Ty {
    fn of(ty: &Type) -> Self {
        match &ty.base {
            BaseType::Named(name) => Ty {
                name: name.to_string(),
                nullable: ty.nullable,
            },
            BaseType::List(item) => Ty {
                nullable: ty.nullable,
                ..Ty::of(item)
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Arg {
    pub name: String,
    pub ty: Ty,
    /// Required: non-null and without a default.
    pub required: bool,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub args: Vec<Arg>,
    pub ty: Ty,
}

#[derive(Debug)]
enum Kind {
    Object {
        implements: Vec<String>,
        fields: Vec<Field>,
    },
    Interface {
        fields: Vec<Field>,
    },
    Input {
        fields: Vec<Arg>,
    },
    Leaf,
}

pub struct Schema {
    types: BTreeMap<String, Kind>,
}

/// A generated selection set, with what the server's document limits would count in it: its
/// cost (one per field, a page's contents once per item) and its depth.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    pub text: String,
    pub cost: usize,
    pub depth: usize,
}

impl Selection {
    fn leaf(name: &str) -> Self {
        Self {
            text: name.to_owned(),
            cost: 1,
            depth: 1,
        }
    }

    fn push(&mut self, other: Selection) {
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(&other.text);
        self.cost += other.cost;
        self.depth = self.depth.max(other.depth);
    }
}

/// The server's default document limits (`QueryLimits`), with room to spare: every document a
/// sweep sends stays within them.
pub const MAX_COST: usize = 8_000;
pub const MAX_DEPTH: usize = 12;
pub const MAX_BYTES: usize = 30 * 1024;

/// Asserts that a document the sweeps send stays within the server's document limits.
#[track_caller]
pub fn assert_fits(what: &str, query: &str, selection: &Selection) {
    assert!(
        selection.cost <= MAX_COST && selection.depth <= MAX_DEPTH && query.len() <= MAX_BYTES,
        "{what} is too big for the document limits: cost {}, depth {}, {} bytes",
        selection.cost,
        selection.depth,
        query.len()
    );
}

/// The committed schema, parsed once.
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::parse(SDL))
}

fn args(
    values: &[async_graphql::Positioned<async_graphql::parser::types::InputValueDefinition>],
) -> Vec<Arg> {
    values
        .iter()
        .map(|v| {
            let ty = Ty::of(&v.node.ty.node);
            Arg {
                name: v.node.name.node.to_string(),
                required: !ty.nullable && v.node.default_value.is_none(),
                ty,
            }
        })
        .collect()
}

fn fields(
    values: &[async_graphql::Positioned<async_graphql::parser::types::FieldDefinition>],
) -> Vec<Field> {
    values
        .iter()
        .map(|f| Field {
            name: f.node.name.node.to_string(),
            args: args(&f.node.arguments),
            ty: Ty::of(&f.node.ty.node),
        })
        .collect()
}

impl Schema {
    fn parse(sdl: &str) -> Self {
        let document = parse_schema(sdl).expect("schema.graphql parses");
        let mut types = BTreeMap::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let definition = definition.node;
            let kind = match &definition.kind {
                TypeKind::Object(object) => Kind::Object {
                    implements: object
                        .implements
                        .iter()
                        .map(|i| i.node.to_string())
                        .collect(),
                    fields: fields(&object.fields),
                },
                TypeKind::Interface(interface) => Kind::Interface {
                    fields: fields(&interface.fields),
                },
                TypeKind::InputObject(input) => Kind::Input {
                    fields: args(&input.fields),
                },
                _ => Kind::Leaf,
            };
            types.insert(definition.name.node.to_string(), kind);
        }
        Self { types }
    }

    fn fields_of(&self, ty: &str) -> &[Field] {
        match self.types.get(ty) {
            Some(Kind::Object { fields, .. } | Kind::Interface { fields }) => fields,
            _ => panic!("{ty} is not an object or interface type"),
        }
    }

    /// The fields of a root type (`Query`, `Mutation`, `Subscription`), or of any object type.
    pub fn fields(&self, ty: &str) -> Vec<Field> {
        self.fields_of(ty).to_vec()
    }

    /// The names of a type's fields.
    pub fn field_names(&self, ty: &str) -> BTreeSet<String> {
        self.fields_of(ty).iter().map(|f| f.name.clone()).collect()
    }

    /// The object types that implement `interface`.
    fn implementers(&self, interface: &str) -> Vec<&str> {
        self.types
            .iter()
            .filter_map(|(name, kind)| match kind {
                Kind::Object { implements, .. } if implements.iter().any(|i| i == interface) => {
                    Some(name.as_str())
                }
                _ => None,
            })
            .collect()
    }

    /// Objects with an ID of their own: nesting one of them inside another is what costs depth.
    fn is_entity(&self, ty: &str) -> bool {
        matches!(self.types.get(ty), Some(Kind::Object { implements, .. }) if implements.iter().any(|i| i == "Node"))
    }

    fn is_leaf(&self, ty: &str) -> bool {
        !matches!(
            self.types.get(ty),
            Some(Kind::Object { .. } | Kind::Interface { .. })
        )
    }

    /// A selection of every field of `ty` (fragments on every implementer for an interface),
    /// nesting at most `entities` further objects with IDs, never one already on the path.
    /// The k-th level of nested lists asks for `pages[k]` items; lists nested deeper than
    /// `pages` reaches are left out. A field with a required argument fails the test: the
    /// sweeps cannot invent its value, so whoever adds it must teach them.
    pub fn select(&self, ty: &str, entities: usize, pages: &[usize]) -> Selection {
        self.select_on(ty, entities, pages, &mut vec![ty.to_owned()], &[])
    }

    /// Like [`Schema::select`], leaving out the named fields of `ty` itself.
    pub fn select_except(
        &self,
        ty: &str,
        entities: usize,
        pages: &[usize],
        omit: &[&str],
    ) -> Selection {
        self.select_on(ty, entities, pages, &mut vec![ty.to_owned()], omit)
    }

    /// Like [`Schema::select`], of the one field `field` of `ty`.
    pub fn select_field_of(
        &self,
        ty: &str,
        field: &str,
        entities: usize,
        pages: &[usize],
    ) -> Selection {
        let field = self
            .fields_of(ty)
            .iter()
            .find(|f| f.name == field)
            .unwrap_or_else(|| panic!("{ty}.{field}"));
        self.select_field(ty, field, entities, pages, &mut vec![ty.to_owned()])
            .unwrap_or_else(|| panic!("{ty}.{} selects nothing", field.name))
    }

    /// Whether `field` of `ty` is a list with pages (it takes `first`).
    pub fn is_connection(&self, ty: &str, field: &str) -> bool {
        self.fields_of(ty)
            .iter()
            .any(|f| f.name == field && f.args.iter().any(|a| a.name == "first"))
    }

    fn select_on(
        &self,
        ty: &str,
        entities: usize,
        pages: &[usize],
        path: &mut Vec<String>,
        omit: &[&str],
    ) -> Selection {
        let mut out = Selection::default();
        match self.types.get(ty) {
            Some(Kind::Interface { .. }) => {
                out.push(Selection::leaf("__typename"));
                for object in self.implementers(ty) {
                    path.push(object.to_owned());
                    let inner = self.select_on(object, entities, pages, path, &[]);
                    path.pop();
                    out.push(Selection {
                        text: format!("... on {object} {{ {} }}", inner.text),
                        cost: inner.cost,
                        depth: inner.depth,
                    });
                }
            }
            Some(Kind::Object { fields, .. }) => {
                for field in fields.iter().filter(|f| !omit.contains(&f.name.as_str())) {
                    // An edge's node is the list's `nodes` again.
                    if ty.ends_with("Edge") && field.name == "node" {
                        continue;
                    }
                    if let Some(selected) = self.select_field(ty, field, entities, pages, path) {
                        out.push(selected);
                    }
                }
            }
            _ => panic!("{ty} has no fields to select"),
        }
        out
    }

    fn select_field(
        &self,
        owner: &str,
        field: &Field,
        entities: usize,
        pages: &[usize],
        path: &mut Vec<String>,
    ) -> Option<Selection> {
        let mut page = None;
        for arg in &field.args {
            match arg.name.as_str() {
                "first" => page = Some(*pages.first()?),
                _ if arg.required => panic!(
                    "{owner}.{}({}:) is required: teach the security sweeps a value for it",
                    field.name, arg.name
                ),
                _ => {}
            }
        }
        let inner_pages = if page.is_some() { &pages[1..] } else { pages };
        let call = match page {
            Some(page) => format!("{}(first: {page})", field.name),
            None => field.name.clone(),
        };
        let inner = field.ty.name.as_str();
        if self.is_leaf(inner) {
            return Some(Selection::leaf(&call));
        }
        let entity = self.is_entity(inner) || self.implementers(inner).len() > 1;
        if entity && (entities == 0 || path.iter().any(|t| t == inner)) {
            return None;
        }
        let next = if entity { entities - 1 } else { entities };
        path.push(inner.to_owned());
        let selection = self.select_on(inner, next, inner_pages, path, &[]);
        path.pop();
        // As the server counts: one per field, and a page's contents once per item.
        let cost = page.unwrap_or(1) * selection.cost + 1;
        Some(Selection {
            text: format!("{call} {{ {} }}", selection.text),
            cost,
            depth: selection.depth + 1,
        })
    }

    /// The most of `ty` one document may ask for within the limits (less `spare` cost for
    /// what wraps it): every field, objects two deep and lists with as many items as fit.
    pub fn everything(&self, ty: &str, spare: usize) -> Selection {
        let candidates: [(usize, &[usize]); 6] = [
            (2, &[50, 5]),
            (2, &[20, 5]),
            (2, &[10, 2]),
            (2, &[5]),
            (1, &[5]),
            (1, &[]),
        ];
        candidates
            .iter()
            .map(|(entities, pages)| self.select(ty, *entities, pages))
            .find(|s| s.cost + spare <= MAX_COST && s.depth + 3 <= MAX_DEPTH)
            .unwrap_or_else(|| panic!("no selection of {ty} fits the document limits"))
    }

    /// `Group`'s fields as documents that fit the limits: each list alone, with as many items
    /// as fit, and every other field together.
    pub fn group_parts(&self) -> Vec<(String, Selection)> {
        let lists: Vec<String> = self
            .fields_of("Group")
            .iter()
            .filter(|f| self.is_connection("Group", &f.name))
            .map(|f| f.name.clone())
            .collect();
        let omit: Vec<&str> = lists.iter().map(String::as_str).collect();
        let mut parts = vec![(
            "listing".to_owned(),
            self.select_except("Group", 2, &[], &omit),
        )];
        for list in &lists {
            let candidates: [&[usize]; 4] = [&[50, 5], &[20, 5], &[20], &[5]];
            let selection = candidates
                .iter()
                .map(|pages| self.select_field_of("Group", list, 2, pages))
                .find(|s| s.cost <= MAX_COST && s.depth + 3 <= MAX_DEPTH)
                .unwrap_or_else(|| panic!("Group.{list} fits no document"));
            parts.push((list.clone(), selection));
        }
        parts
    }

    /// Every place an operation takes an `ID`, as `Root.field(argument)` or
    /// `Mutation.field(input.inputField)`.
    pub fn id_arguments(&self) -> BTreeSet<String> {
        let mut found = BTreeSet::new();
        for root in ["Query", "Mutation", "Subscription"] {
            for field in self.fields_of(root) {
                for arg in &field.args {
                    if arg.ty.name == "ID" {
                        found.insert(format!("{root}.{}({})", field.name, arg.name));
                    }
                    if let Some(Kind::Input { fields }) = self.types.get(&arg.ty.name) {
                        for input in fields.iter().filter(|f| f.ty.name == "ID") {
                            found.insert(format!(
                                "{root}.{}({}.{})",
                                field.name, arg.name, input.name
                            ));
                        }
                    }
                }
            }
        }
        found
    }

    /// The fields of `Group` that only members read: nullable connections (API.md: null with
    /// `FORBIDDEN` for those who may list the group but not read it).
    pub fn members_only_group_fields(&self) -> Vec<String> {
        self.fields_of("Group")
            .iter()
            .filter(|f| f.ty.nullable && f.ty.name.ends_with("Connection"))
            .map(|f| f.name.clone())
            .collect()
    }
}

#[test]
fn the_generated_selections_cover_every_field() {
    let schema = schema();
    for ty in [
        "Group",
        "User",
        "Thread",
        "Post",
        "Membership",
        "Presentation",
    ] {
        let listing = schema.select(ty, 1, &[20, 5]);
        // A field of the type's own type (a post's `replyTo`) is read where it is the root.
        for field in schema.fields(ty).iter().filter(|f| f.ty.name != ty) {
            let field = &field.name;
            assert!(
                listing.text.contains(field.as_str()),
                "{ty}.{field} is selected: {}",
                listing.text
            );
        }
        assert_fits(ty, &listing.text, &listing);
    }
    for ty in ["Thread", "Post", "Presentation", "User", "Group"] {
        let everything = schema.everything(ty, 0);
        assert_fits(ty, &everything.text, &everything);
    }
    let node = schema.select("Node", 0, &[]);
    for ty in [
        "Thread",
        "Post",
        "PostRevision",
        "Presentation",
        "Membership",
        "ModerationLogEntry",
    ] {
        assert!(
            node.text.contains(&format!("... on {ty} {{")),
            "{ty}: {}",
            node.text
        );
    }
    let parts = schema.group_parts();
    assert_eq!(parts.len(), 6, "the listing and each of Group's lists");
    for (part, selection) in &parts {
        assert_fits(part, &selection.text, selection);
    }
    let threads = schema.select_field_of("Group", "threads", 2, &[50, 5]);
    assert!(
        threads.text.starts_with("threads(first: 50) {"),
        "{}",
        threads.text
    );
    assert!(threads.text.contains("posts(first: 5)"), "{}", threads.text);
    let flat = schema.select("Thread", 2, &[]);
    assert!(
        !flat.text.contains("(first:"),
        "lists deeper than the pages reach are left out: {}",
        flat.text
    );
    assert!(schema.id_arguments().contains("Query.node(id)"));
    assert_eq!(
        schema.members_only_group_fields(),
        [
            "members",
            "pendingMemberships",
            "threads",
            "presentations",
            "moderationLog"
        ]
    );
}
