"""Take the documentation's screenshots of a built demo site at 1400×1000 in headless Chromium.

    python benchmarks/screenshots.py SITE_DIR [--out docs/assets]

SITE_DIR is a site built from the demo store (`daybook init s && cd s && daybook demo && daybook
build`); its `site/` folder is served on 127.0.0.1 and each page below is saved as a PNG.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

PAGES = {  # file name -> path in the demo site
    "screenshot-home.png": "",
    "screenshot-experiment.png": "experiments/digits-classifier/",
    "screenshot-compare.png": None,  # the first sweep compare page, found in the site
    "screenshot-run.png": None,  # the champion's run page, found from the model page
    "screenshot-model.png": "models/cancer-detector/",
}


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def _driver() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--window-size=1400,1000", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/assets"))
    args = parser.parse_args()
    html = (args.site / "site").resolve()
    compare = sorted(html.glob("experiments/*/compare/*/index.html"))
    pages = dict(PAGES)
    if compare:
        pages["screenshot-compare.png"] = compare[0].parent.relative_to(html).as_posix() + "/"
    handler = functools.partial(_Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    driver = _driver()
    try:
        driver.get(base + "models/cancer-detector/")
        time.sleep(1)
        links = driver.find_elements("css selector", "article a[href*='/runs/']")
        run = next(
            (a.get_attribute("href") for a in links if "#" not in (a.get_attribute("href") or "")),
            None,
        )
        pages["screenshot-run.png"] = run.removeprefix(base) if run else None
        args.out.mkdir(parents=True, exist_ok=True)
        for name, path in pages.items():
            if path is None:
                print(f"skipped {name}: no such page in this site")
                continue
            driver.get(base + path)
            time.sleep(2.5)  # charts are drawn by vega after load
            driver.save_screenshot(str(args.out / name))
            print(f"{name}: {path}")
    finally:
        driver.quit()
        server.shutdown()


if __name__ == "__main__":
    main()
