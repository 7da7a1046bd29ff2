//! Actor texts (`staff:<id>`, `key:<id>`, `system:tiers` ...) as people read them, for every
//! list that records who did something: the audit log, member change logs, the ledger, the
//! tier history. The use case is `patron_app::actors`.

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::state::ApiState;
use patron_app::actors as app;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

#[derive(Tags)]
enum Tag {
    /// Who did what: names for the actors lists record.
    Actors,
}

#[derive(Debug, Object)]
#[oai(deny_unknown_fields)]
pub struct ActorQuery {
    /// Actor texts as lists show them; at most 500.
    #[oai(validator(max_items = 500))]
    pub subjects: Vec<String>,
}

#[derive(Debug, Object)]
pub struct ActorNameView {
    pub subject: String,
    /// `staff`, `api_key`, `support`, `operator`, `member`, `system`, `cli` or `other`.
    pub kind: String,
    /// The staff member's or API key's name, the operator's e-mail; absent otherwise.
    pub name: Option<String>,
    /// For `system`: the job (`tiers`, `expiry`, `birthday`, `billing`).
    pub code: Option<String>,
}

pub struct ActorsApi {
    pub state: ApiState,
}

#[OpenApi(tag = "Tag::Actors")]
impl ActorsApi {
    /// Names for actor texts: staff and API keys by their names, the platform's jobs by
    /// their code. Any member of staff may ask (the names are their colleagues').
    #[oai(
        path = "/actors/resolve",
        method = "post",
        operation_id = "resolveActors"
    )]
    async fn resolve(
        &self,
        auth: TenantAuth,
        req: Json<ActorQuery>,
    ) -> Result<Json<Vec<ActorNameView>>, ApiError> {
        let (mut tx, _) = self.state.authorize(&auth, None).await?;
        let names = app::resolve(&mut tx, &req.0.subjects).await?;
        tx.commit().await?;
        Ok(Json(
            names
                .into_iter()
                .map(|a| ActorNameView {
                    subject: a.subject,
                    kind: a.kind.to_owned(),
                    name: a.name,
                    code: a.code,
                })
                .collect(),
        ))
    }
}
