"""Generates Daybook's pages inside `mkdocs build` / `mkdocs serve` (mkdocs-gen-files script)."""

from daybook.site import gen_files_main

gen_files_main()
