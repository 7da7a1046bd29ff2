//! Exports' shared edge pieces: CSV lines safe to open in a spreadsheet.

/// Cells starting with these could run as formulas in a spreadsheet: prefix them.
pub fn defuse(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@']) && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

/// One CSV record, each cell defused.
pub fn csv_line(cells: Vec<String>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let _ = w.write_record(cells.into_iter().map(defuse));
    w.into_inner().unwrap_or_default()
}
