"""The entry point of a site's gen-files script (`gen_pages.py`): `from daybook.site import
gen_files_main`. Every site scaffolded by `daybook init` imports it from here, so this path stays
while the code behind it lives in `daybook.commands.generate`."""

from daybook.commands.generate import gen_files_main

__all__ = ["gen_files_main"]
