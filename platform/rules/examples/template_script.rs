//! Prints the script a template form (JSON on stdin) compiles to.

use std::io::Read;

fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).expect("stdin");
    let value = serde_json::from_str(&input).expect("JSON");
    match patron_rules::Template::parse(value) {
        Ok(template) => print!("{}", template.to_script()),
        Err(errors) => {
            for e in errors {
                eprintln!("{}: {}", e.field, e.problem);
            }
            std::process::exit(1);
        }
    }
}
