"""What every console command shares (gv-train, gv-eval, gv-infer, gv-export, gv-bench):
argparse types (`argtypes`), output paths checked before the work (`outputs`), and the one line
naming the pip extra when a package is missing (`extras`), where the data folder is by default
(`data`). A floor below export, bench and the
commands, so that each of them can use it without importing another's command."""
