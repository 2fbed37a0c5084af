//! `information_schema.tables`: row estimates, sizes and the `.frm` version of every table of
//! the chosen databases (`--collect.info_schema.tables.databases`, `*` for all but the
//! system schemas).

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;

use super::{Settings, Sink, cell, cell_f64};
use crate::error::ScrapeError;

const DATABASES: &str = "SELECT SCHEMA_NAME FROM information_schema.schemata \
     WHERE SCHEMA_NAME NOT IN ('mysql', 'performance_schema', 'information_schema')";

fn tables_query(database: &str) -> String {
    let quoted = database.replace('\\', "\\\\").replace('\'', "\\'");
    format!(
        "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ifnull(ENGINE, 'NONE') as ENGINE, \
         ifnull(VERSION, '0') as VERSION, ifnull(ROW_FORMAT, 'NONE') as ROW_FORMAT, \
         ifnull(TABLE_ROWS, '0') as TABLE_ROWS, ifnull(DATA_LENGTH, '0') as DATA_LENGTH, \
         ifnull(INDEX_LENGTH, '0') as INDEX_LENGTH, ifnull(DATA_FREE, '0') as DATA_FREE, \
         ifnull(CREATE_OPTIONS, 'NONE') as CREATE_OPTIONS \
         FROM information_schema.tables WHERE TABLE_SCHEMA = '{quoted}'"
    )
}

const SIZE: &str = "mysql_info_schema_table_size";
const SIZE_HELP: &str = "The size of the table components from information_schema.tables";

pub async fn scrape(
    conn: &mut Conn,
    sink: &mut Sink,
    settings: &Settings,
) -> Result<(), ScrapeError> {
    let databases: Vec<String> = if settings.tables_databases == "*" {
        let rows: Vec<Row> = conn.query(DATABASES).await?;
        rows.iter()
            .map(|r| String::from_utf8_lossy(cell(r, 0)).into_owned())
            .collect()
    } else {
        settings
            .tables_databases
            .split(',')
            .map(str::to_owned)
            .collect()
    };
    for database in databases {
        let rows: Vec<Row> = conn.query(tables_query(&database)).await?;
        for row in &rows {
            table(row, sink)?;
        }
    }
    Ok(())
}

fn table(row: &Row, sink: &mut Sink) -> Result<(), ScrapeError> {
    let text = |i| String::from_utf8_lossy(cell(row, i)).into_owned();
    let number = |i| {
        cell_f64(row, i).ok_or_else(|| ScrapeError::Value {
            column: row.columns_ref()[i].name_str().into_owned(),
            value: text(i),
        })
    };
    let (schema, name) = (text(0), text(1));
    let (version, rows, data, index, free) =
        (number(4)?, number(6)?, number(7)?, number(8)?, number(9)?);
    sink.push(
        "mysql_info_schema_table_version",
        "The version number of the table's .frm file",
        ConstKind::Gauge,
        &[
            ("schema", &schema),
            ("table", &name),
            ("type", &text(2)),
            ("engine", &text(3)),
            ("row_format", &text(5)),
            ("create_options", &text(10)),
        ],
        version,
    );
    sink.push(
        "mysql_info_schema_table_rows",
        "The estimated number of rows in the table from information_schema.tables",
        ConstKind::Gauge,
        &[("schema", &schema), ("table", &name)],
        rows,
    );
    for (component, value) in [
        ("data_length", data),
        ("index_length", index),
        ("data_free", free),
    ] {
        sink.push(
            SIZE,
            SIZE_HELP,
            ConstKind::Gauge,
            &[
                ("schema", &schema),
                ("table", &name),
                ("component", component),
            ],
            value,
        );
    }
    Ok(())
}
