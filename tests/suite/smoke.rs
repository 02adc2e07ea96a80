use serde_json::json;

use crate::harness::each_backend;

#[tokio::test]
async fn a_new_user_registers_creates_a_group_and_reads_it_back() {
    each_backend(|server| async move {
        let ana = server.register("ana").await;
        let group = server.create_group(&ana, "counter-trafficking", "PRIVATE", "REQUEST").await;
        let data = server
            .ok(
                Some(&ana.token),
                "query($slug: String!) { viewer { handle email } group(slug: $slug) { id memberCount viewerCanModerate members { totalCount nodes { role user { handle } } } } }",
                json!({ "slug": "counter-trafficking" }),
            )
            .await;
        assert_eq!(data["viewer"]["handle"], "ana");
        assert_eq!(data["group"]["id"], group.as_str());
        assert_eq!(data["group"]["memberCount"], 1);
        assert_eq!(data["group"]["viewerCanModerate"], true);
        assert_eq!(data["group"]["members"]["totalCount"], 1);
        assert_eq!(data["group"]["members"]["nodes"][0]["role"], "OWNER");
    })
    .await;
}
