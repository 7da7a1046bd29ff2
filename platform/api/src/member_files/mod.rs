//! Members in files, the HTTP edge: import from CSV or XLSX (the upload spooled to a
//! temporary file, then a background job: `patron_app::member_files::import`), and export
//! of a search as CSV (streamed) or XLSX (through `edge::exports`).

pub mod dto;

use crate::edge::auth::TenantAuth;
use crate::edge::error::ApiError;
use crate::edge::exports::{csv_body, xlsx_body, RowPages};
use crate::edge::exports::{export_lang, ExportLayout};
use crate::edge::gate::export_read;
use crate::edge::member_views::MemberSearch;
use crate::edge::state::ApiState;
use dto::{CsvFile, FileFormat, ImportMode, ImportView, Started, XlsxFile};
use patron_app::fields::current_fields;
use patron_app::member_files::{self as app_files, import, rows, Layout, MemberExport};
use patron_app::member_files::{ImportRequest, Importer};
use patron_core::access::Permission;
use patron_db::DbError;
use poem::Body;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{OpenApi, Tags};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Tags)]
enum Tag {
    /// Member import and export.
    MemberFiles,
}

pub struct MemberFilesApi {
    pub state: ApiState,
}

/// A member export's pages, for the shared CSV and XLSX writers.
struct Pages(MemberExport);

#[async_trait::async_trait]
impl RowPages for Pages {
    type Error = DbError;

    async fn next_rows(&mut self) -> Result<Option<Vec<Vec<String>>>, DbError> {
        self.0.next_rows().await
    }
}

impl MemberFilesApi {
    fn importer(&self) -> Importer {
        Importer::new(
            self.state.db.clone(),
            self.state.clock.clone(),
            self.state.config.pii.clone(),
            self.state.plans.clone(),
        )
    }

    async fn export(
        &self,
        auth: &TenantAuth,
        req: MemberSearch,
        layout: ExportLayout,
        lang: Option<&str>,
    ) -> Result<MemberExport, ApiError> {
        let (tx, me) = self
            .state
            .authorize(auth, Some(Permission::MembersExport))
            .await?;
        let pii = self.state.require(&me, Permission::MembersReadPii).is_ok();
        let layout = match layout {
            ExportLayout::Machine => Layout::Machine,
            ExportLayout::People => Layout::People {
                lang: export_lang(lang, &me.tenant.settings.locale),
                zone: me.tenant.settings.zone(),
            },
        };
        Ok(app_files::export::start(
            tx,
            &self.state.rules,
            self.state.config.pii.clone(),
            &me.tenant.settings.phone_region,
            req.into(),
            pii,
            layout,
            &me.subject(),
            self.state.now(),
        )
        .await?)
    }
}

#[OpenApi(tag = "Tag::MemberFiles")]
impl MemberFilesApi {
    /// Import members from a CSV or XLSX file sent as the body. `mapping` is a JSON object
    /// from column headers to fields (`name`, `phone`, `email`, `gender`, `birthday`,
    /// `join_date`, `home_store`, `tags`, `notes`, `card_number`, `custom.<key>`; `-` skips
    /// a column); headers named like a field map to it without one. Runs in the background:
    /// poll `GET /members/imports/{id}` for progress and the report of bad rows.
    #[oai(
        path = "/members/imports",
        method = "post",
        operation_id = "importMembers"
    )]
    async fn import(
        &self,
        auth: TenantAuth,
        format: Query<FileFormat>,
        mode: Query<ImportMode>,
        mapping: Query<Option<String>>,
        body: Binary<Body>,
    ) -> Result<Started, ApiError> {
        let mapping: BTreeMap<String, String> = match mapping.0.as_deref() {
            None | Some("") => BTreeMap::new(),
            Some(m) => serde_json::from_str(m).map_err(|_| {
                ApiError::field(
                    "mapping",
                    patron_core::Issue::invalid_format(
                        "mapping",
                        "must be a JSON object from column headers to field names",
                    ),
                )
            })?,
        };
        let (mut tx, me) = self
            .state
            .authorize(&auth, Some(Permission::MembersImport))
            .await?;
        let (_, set) = current_fields(&mut tx).await?;
        rows::check_mapping(&mapping, &set)?;
        // Spool the upload to a temporary file: memory stays bounded whatever its size.
        let file = tempfile::NamedTempFile::new().map_err(|e| ApiError::internal(&e))?;
        let (std_file, path) = file.into_parts();
        let mut out = tokio::fs::File::from_std(std_file);
        let mut stream = body.0.into_bytes_stream();
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::bad_request(format!("the upload broke off: {e}")))?;
            size += chunk.len() as u64;
            if size > import::MAX_FILE_BYTES {
                return Err(ApiError::field(
                    "body",
                    patron_core::Issue::too_large(import::MAX_FILE_BYTES as i64)
                        .with("unit", "bytes"),
                ));
            }
            out.write_all(&chunk)
                .await
                .map_err(|e| ApiError::internal(&e))?;
        }
        out.flush().await.map_err(|e| ApiError::internal(&e))?;
        if size == 0 {
            return Err(ApiError::field(
                "body",
                patron_core::Issue::new(patron_core::FieldCode::EmptyFile, "the file is empty"),
            ));
        }
        let request = ImportRequest {
            id: Uuid::now_v7(),
            format: format.0.into(),
            mode: mode.0.into(),
            mapping,
            subject: me.subject(),
        };
        let importer = self.importer();
        // The file goes into the database with the import: any replica can run it.
        let (started, lease) = importer.start(tx, &request, &path).await?;
        importer.spawn(lease, me.tenant.clone(), Some(path));
        Ok(Started::Accepted(Json(started.into())))
    }

    /// An import's progress, and when finished its report.
    #[oai(
        path = "/members/imports/:id",
        method = "get",
        operation_id = "getMemberImport"
    )]
    async fn import_status(
        &self,
        auth: TenantAuth,
        id: Path<Uuid>,
    ) -> Result<Json<ImportView>, ApiError> {
        let (mut tx, _) = self
            .state
            .authorize(&auth, Some(Permission::MembersImport))
            .await?;
        let i = app_files::import_status(&mut tx, id.0).await?;
        tx.commit().await?;
        Ok(Json(i.into()))
    }

    /// Export the members a search finds as CSV, streamed. Phone and e-mail columns only
    /// with `members:read_pii`.
    #[oai(
        path = "/members/export.csv",
        method = "post",
        operation_id = "exportMembersCsv",
        transform = "export_read"
    )]
    async fn export_csv(
        &self,
        auth: TenantAuth,
        req: Json<MemberSearch>,
        /// `machine` (default) or `people`.
        layout: Query<Option<ExportLayout>>,
        /// The language of a people export (`zh-CN`, `en`); the business's by default.
        #[oai(validator(max_length = 10))]
        lang: Query<Option<String>>,
    ) -> Result<CsvFile, ApiError> {
        let export = self
            .export(
                &auth,
                req.0,
                layout.0.unwrap_or_default(),
                lang.0.as_deref(),
            )
            .await?;
        Ok(CsvFile::Ok(
            Binary(csv_body(export.header(), Pages(export), "export")),
            "attachment; filename=\"members.csv\"".into(),
        ))
    }

    /// Export the members a search finds as an Excel workbook (written with bounded memory
    /// to a temporary file, then sent from it). Phone and e-mail columns only with
    /// `members:read_pii`.
    #[oai(
        path = "/members/export.xlsx",
        method = "post",
        operation_id = "exportMembersXlsx",
        transform = "export_read"
    )]
    async fn export_xlsx(
        &self,
        auth: TenantAuth,
        req: Json<MemberSearch>,
        /// `machine` (default) or `people`.
        layout: Query<Option<ExportLayout>>,
        /// The language of a people export (`zh-CN`, `en`); the business's by default.
        #[oai(validator(max_length = 10))]
        lang: Query<Option<String>>,
    ) -> Result<XlsxFile, ApiError> {
        let export = self
            .export(
                &auth,
                req.0,
                layout.0.unwrap_or_default(),
                lang.0.as_deref(),
            )
            .await?;
        Ok(XlsxFile::Ok(
            Binary(xlsx_body(export.header(), Pages(export)).await?),
            "attachment; filename=\"members.xlsx\"".into(),
        ))
    }
}
