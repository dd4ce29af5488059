//! `vpcsim completions SHELL` and `vpcsim man`: shell completion scripts and man pages, both
//! generated from the same clap definition as the parser, so they cannot drift from it.

use super::stdio::{errln, outln};
use clap::Args;
use clap_complete::Shell;
use std::path::{Path, PathBuf};

/// Arguments of `vpcsim completions`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim completions bash > /etc/bash_completion.d/vpcsim
  vpcsim completions zsh > \"${fpath[1]}/_vpcsim\"
  vpcsim completions fish > ~/.config/fish/completions/vpcsim.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Arguments of `vpcsim man`.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  vpcsim man --out /usr/local/share/man/man1
  vpcsim man --out man && man -l man/vpcsim-trace.1")]
pub struct ManArgs {
    /// Folder to write the pages to (created if missing): `vpcsim.1` and one page per command,
    /// `vpcsim-trace.1`, `vpcsim-replay.1`, ...
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
}

/// Print the completion script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs, mut cli: clap::Command) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cli, "vpcsim", &mut script);
    super::stdio::out!("{}", String::from_utf8_lossy(&script));
    0
}

/// Write the man pages and print the path of each; exit 2 at the first page that cannot be written.
pub fn man(args: &ManArgs, cli: clap::Command) -> i32 {
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        errln!("error: --out {}: {e}", args.out.display());
        return 2;
    }
    // Building resolves the subcommands' display names (`vpcsim-trace`), which name the pages.
    let mut cli = cli.disable_help_subcommand(true);
    cli.build();
    match write_pages(&cli, &args.out) {
        Ok(()) => 0,
        Err((path, e)) => {
            errln!("error: writing {}: {e}", path.display());
            2
        }
    }
}

/// Every page of `cmd` and its visible subcommands, depth first.
fn write_pages(cmd: &clap::Command, dir: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    let page = clap_mangen::Man::new(cmd.clone())
        .source(format!("vpcsim {}", env!("CARGO_PKG_VERSION")))
        .manual("vpcsim manual")
        .date(commit_date());
    let path = dir.join(page.get_filename());
    let mut roff = Vec::new();
    page.render(&mut roff).map_err(|e| (path.clone(), e))?;
    std::fs::write(&path, title_first(&roff)).map_err(|e| (path.clone(), e))?;
    outln!("{}", path.display());
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir)?;
    }
    Ok(())
}

/// The page with its `.TH` line moved to the top. clap_mangen puts two lines defining the
/// apostrophe string first; a man(7) page opens with its title, and tools that read only the
/// first line (`file`, whatis indexers, scripts checking for `.TH`) expect it there. The string is
/// used only in text after the title, so the order does not change the rendering.
fn title_first(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let Some(title) = lines.iter().position(|l| l.starts_with(".TH ")) else {
        return roff.to_vec();
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(lines[title]);
    for (i, line) in lines.iter().enumerate() {
        if i != title {
            out.push_str(line);
        }
    }
    out.into_bytes()
}

/// The date of the commit the binary was built from (the pages change only with it), or none.
fn commit_date() -> &'static str {
    env!("VPCSIM_BUILD_COMMIT")
        .split_once(' ')
        .map_or("", |(_, date)| date)
}
