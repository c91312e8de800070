//! Judge a repository and print the report: `cargo run --release -p
//! portcullis-practice --example judge -- PATH [table|json|sarif|markdown]`.
//! The same work as `portcullis practice`, without the CLI around it.

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| ".".into());
    let format = match args.next().as_deref() {
        Some("json") => portcullis_practice::Format::Json,
        Some("sarif") => portcullis_practice::Format::Sarif,
        Some("markdown") => portcullis_practice::Format::Markdown,
        _ => portcullis_practice::Format::Table,
    };
    let history = args.next().as_deref() != Some("nohistory");
    let options = portcullis_practice::Options {
        history,
        ..Default::default()
    };
    let report = portcullis_practice::judge(std::path::Path::new(&path), &options);
    print!("{}", portcullis_practice::render(&report, format, false));
}
