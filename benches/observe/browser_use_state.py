#!/usr/bin/env python3
"""Times browser-use 0.13.14's DOM state build (no screenshot) on pages, for comparison with
`tandem observe`. Prints one line per page: `<url> <median ms> <chars> <elements>`, where
chars is the size of the element text browser-use gives the LLM.

Usage: browser_use_state.py --chromium PATH --repeat N URL...
"""
import argparse
import asyncio
import logging
import os
import statistics
import time

os.environ.setdefault("ANONYMIZED_TELEMETRY", "false")
os.environ.setdefault("BROWSER_USE_SETUP_LOGGING", "false")

from browser_use import BrowserProfile, BrowserSession  # noqa: E402


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chromium", default="/usr/lib/chromium/chromium")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("urls", nargs="+")
    args = parser.parse_args()
    logging.disable(logging.WARNING)

    session = BrowserSession(browser_profile=BrowserProfile(
        executable_path=args.chromium, headless=True, user_data_dir=None,
        args=["--no-sandbox", "--disable-gpu"]))
    await session.start()
    try:
        for url in args.urls:
            await session.navigate_to(url)
            await asyncio.sleep(0.5)
            times = []
            state = None
            for _ in range(args.repeat):
                started = time.perf_counter()
                state = await session.get_browser_state_summary(include_screenshot=False)
                times.append((time.perf_counter() - started) * 1000)
            text = state.dom_state.llm_representation()
            print(f"{url} {statistics.median(times):.1f} {len(text)} {len(state.dom_state.selector_map)}",
                  flush=True)
            if os.environ.get("SHOW_STATE"):
                print(text)
    finally:
        await session.kill()


if __name__ == "__main__":
    asyncio.run(main())
