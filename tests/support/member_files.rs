//! Member files: imports (CSV, XLSX) and exports of a search.

use super::app::{Api, Auth, TestApp};
use super::reply::Reply;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How to read an uploaded file: `format` (`csv`, `xlsx`), `mode` (`dry_run`,
/// `all_or_nothing`, `valid_only`) and an optional column mapping (JSON, header to field).
#[derive(Clone, Debug, Serialize)]
pub struct ImportOptions {
    pub format: String,
    pub mode: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mapping: Option<String>,
}

impl ImportOptions {
    pub fn new(format: &str, mode: &str) -> Self {
        ImportOptions {
            format: format.into(),
            mode: mode.into(),
            mapping: None,
        }
    }

    /// Columns to fields, as the JSON object the console sends.
    pub fn mapping(mut self, mapping: &Value) -> Self {
        self.mapping = Some(mapping.to_string());
        self
    }
}

/// One bad cell (or row) of an import.
#[derive(Clone, Debug, Deserialize)]
pub struct RowProblem {
    pub row: u64,
    pub column: Option<String>,
    pub field: String,
    pub problem: String,
}

/// An import and, once finished, its report.
#[derive(Clone, Debug, Deserialize)]
pub struct Import {
    pub id: String,
    pub status: String,
    pub rows_read: i64,
    pub rows_valid: i64,
    pub rows_imported: i64,
    pub error_count: i64,
    pub errors: Vec<RowProblem>,
    pub message: Option<String>,
    pub message_code: Option<String>,
    #[serde(default)]
    pub message_params: serde_json::Value,
}

impl Api {
    /// `POST /members/imports`: uploads a file; the import runs in the background.
    pub async fn start_import(
        &self,
        auth: &Auth,
        options: &ImportOptions,
        file: Vec<u8>,
    ) -> Reply<Import> {
        self.v1(Method::POST, "/members/imports")
            .query(options)
            .auth(auth)
            .bytes("application/octet-stream", file)
            .send()
            .await
    }

    /// `GET /members/imports/{id}`.
    pub async fn member_import(&self, auth: &Auth, id: &str) -> Reply<Import> {
        self.v1(Method::GET, &format!("/members/imports/{id}"))
            .auth(auth)
            .send()
            .await
    }

    /// `POST /members/export.csv`: the members a search finds, as CSV text.
    pub async fn export_members_csv(&self, auth: &Auth, search: &impl Serialize) -> Reply<String> {
        self.v1(Method::POST, "/members/export.csv")
            .auth(auth)
            .json(search)
            .send()
            .await
    }

    /// `POST /members/export.csv?layout=people&lang=...`: the export laid out for people.
    pub async fn export_members_csv_for_people(
        &self,
        auth: &Auth,
        search: &impl Serialize,
        lang: &str,
    ) -> Reply<String> {
        self.v1(Method::POST, "/members/export.csv")
            .query(&[("layout", "people"), ("lang", lang)])
            .auth(auth)
            .json(search)
            .send()
            .await
    }

    /// `POST /members/export.xlsx`: the same as a workbook (read its `bytes`).
    pub async fn export_members_xlsx(&self, auth: &Auth, search: &impl Serialize) -> Reply {
        self.v1(Method::POST, "/members/export.xlsx")
            .auth(auth)
            .json(search)
            .send()
            .await
    }
}

impl TestApp {
    /// Uploads a file, asserts it is accepted and waits for the import to finish; returns
    /// its report.
    pub async fn import_members(
        &self,
        auth: &Auth,
        options: &ImportOptions,
        file: Vec<u8>,
    ) -> Import {
        let started = self
            .start_import(auth, options, file)
            .await
            .expect(StatusCode::ACCEPTED);
        for _ in 0..300 {
            let report = self.member_import(auth, &started.id).await.body();
            if report.status != "running" {
                return report;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("import did not finish");
    }
}

/// The rows of the first sheet of a workbook, each cell as text.
pub fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(0).unwrap().unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}
