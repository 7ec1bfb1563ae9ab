"""The explorer's page end to end in headless Chromium: drag, pick, draw, upload."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

import aekit

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)",
    ),
]


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> Iterator[str]:
    """A 2-D VAE on tiny labelled 'digits', served by uvicorn on a free port."""
    pytest.importorskip("fastapi")

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    x = np.zeros((90, 12, 12), np.uint8)
    for i, label in enumerate(y):  # a bar whose angle is the label, on black
        image = Image.new("L", (12, 12))
        ends = [(2, 6, 9, 6), (6, 2, 6, 9), (2, 2, 9, 9)][label]
        ImageDraw.Draw(image).line(ends, fill=255, width=2)
        x[i] = np.asarray(image)
    path = tmp_path_factory.mktemp("data") / "bars.npz"
    np.savez(path, x=x, y=y)
    out = tmp_path_factory.mktemp("runs") / "vae"
    aekit.train(
        str(path), "vae", out=out, latent_dim=2, hidden=(32,), epochs=3, pictures=False
    )
    yield from _serve(out)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    if not Path(CHROMEDRIVER).exists():
        pytest.skip("needs chromedriver (Debian's chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tempfile.mkdtemp(prefix="aekit-chromium-")
    for flag in [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1400,1000",
        f"--user-data-dir={profile}",
    ]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _serve(run):
    """Serve the explorer of `run` on a free local port; yields its URL."""
    from aekit.interfaces.explore import load_explorer
    from aekit.interfaces.explore.server import bind, create_app, server

    sock = bind("127.0.0.1", 0)
    srv = server(create_app(load_explorer(run)), sock)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    srv.should_exit = True
    thread.join(10)
    sock.close()


def _wait(driver, condition, timeout: float = 20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def _src(driver, selector: str) -> str | None:
    """The first match's src, read in one script call: the page may redraw the
    element between a find and a read (a stale element)."""
    script = "const e = document.querySelector(arguments[0]); return e ? e.src : null;"
    return driver.execute_script(script, selector)


def _error_shown(driver) -> str:
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "error")
    return box.text if box.is_displayed() else ""


def test_drag_pick_draw_and_upload(browser, url, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    d = browser
    d.get(url)
    _wait(d, lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
    assert "2-D codes" in d.find_element(By.ID, "plane").text
    _wait(d, lambda d: _src(d, "#cursor-view img"))
    first = _src(d, "#cursor-view img")

    # drag the cursor across the map: the decoded image follows it
    plane = d.find_element(By.ID, "map")
    drag = ActionChains(d).move_to_element_with_offset(plane, -120, -120)
    drag.click_and_hold().move_by_offset(60, 40).move_by_offset(80, 120).release()
    drag.perform()
    _wait(d, lambda d: _src(d, "#cursor-view img") != first)
    assert _src(d, "#cursor-view img").startswith("data:image/png;base64,")
    assert d.execute_script("return window.aekitExplorer.decodes") >= 2
    sliders = d.find_elements(By.CSS_SELECTOR, "#sliders input[type=range]")
    assert len(sliders) == 2

    # click two data points: inputs, reconstructions and the strip between them
    for index in (0, 1):
        x, y = d.execute_script(
            """const S = window.aekitExplorer, [u0, u1, v0, v1] = S.extent;
               const [u, v] = S.points[arguments[0]];
               return [(u - u0) / (u1 - u0), 1 - (v - v0) / (v1 - v0)];""",
            index,
        )
        w, h = plane.rect["width"], plane.rect["height"]
        ActionChains(d).move_to_element_with_offset(
            plane, x * w - w / 2, y * h - h / 2
        ).click().perform()
        _wait(
            d,
            lambda d, i=index: (
                len(d.execute_script("return window.aekitExplorer.picks")) == i + 1
            ),
        )
    _wait(d, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#strip img")) == 10)
    assert _src(d, "#pick-b-out img").startswith("data:image/png")

    # upload a picture: its model input, reconstruction and place on the map appear
    picture = Image.new("L", (60, 60), 255)  # dark bar on white paper
    ImageDraw.Draw(picture).line((10, 30, 50, 30), fill=0, width=8)
    path = tmp_path / "bar.png"
    picture.save(path)
    d.find_element(By.ID, "upload").send_keys(str(path))
    _wait(d, lambda d: _src(d, "#upload-out img"))
    assert _src(d, "#upload-in img").startswith("data:image/png")
    assert d.execute_script("return window.aekitExplorer.upload") is not None
    assert "inverted" in d.find_element(By.ID, "upload-text").text
    model_input = _src(d, "#upload-in img")

    # draw on the pad: the drawing is encoded when the stroke ends
    pad = d.find_element(By.ID, "pad")
    stroke = ActionChains(d).move_to_element_with_offset(pad, -40, 0).click_and_hold()
    stroke.move_by_offset(40, 0).move_by_offset(40, 0).release().perform()
    _wait(d, lambda d: _src(d, "#upload-in img") != model_input)
    assert _error_shown(d) == ""


def test_a_run_conditioned_on_columns_decodes_under_typed_values(
    browser, attribute_csv, tmp_path
):
    """A cVAE conditioned on two CSV columns: one number box per column, starting
    at the data's means; typing a value decodes the cursor again under it."""
    pytest.importorskip("fastapi")
    from selenium.webdriver.common.by import By

    from aekit.interfaces.explore import load_explorer
    from aekit.interfaces.explore.server import bind, create_app, server

    out = tmp_path / "attr"
    aekit.train(
        str(attribute_csv),
        "cvae",
        out=out,
        condition="size,tint",
        epochs=20,
        latent_dim=2,
        hidden=(16,),
        pictures=False,
        report=False,
    )
    sock = bind("127.0.0.1", 0)
    srv = server(create_app(load_explorer(out)), sock)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        d = browser
        d.get(f"http://127.0.0.1:{sock.getsockname()[1]}/")
        _wait(
            d, lambda d: d.execute_script("return document.body.dataset.ready === '1'")
        )
        assert d.find_element(By.ID, "condition-pick").is_displayed()
        assert not d.find_element(By.ID, "class-pick").is_displayed()
        size = d.find_element(By.ID, "condition-0")
        assert 0 < float(size.get_attribute("value")) < 1
        _wait(d, lambda d: d.execute_script("return window.aekitExplorer.decodes") >= 1)
        before = d.execute_script("return window.aekitExplorer.decodes")
        size.clear()
        size.send_keys("1\t")  # tab away: the change event fires
        _wait(
            d,
            lambda d: d.execute_script("return window.aekitExplorer.decodes") > before,
        )
        assert _error_shown(d) == ""
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def sae_url(tmp_path_factory) -> Iterator[str]:
    """A tiny image sparse autoencoder, served like `url`."""
    pytest.importorskip("fastapi")

    rng = np.random.default_rng(0)
    x = (rng.random((80, 8, 8)) < 0.2).astype(np.uint8) * 255
    path = tmp_path_factory.mktemp("data") / "dots.npz"
    np.savez(path, x=x)
    out = tmp_path_factory.mktemp("runs") / "sae"
    aekit.train(
        str(path), "sae", out=out, sae="topk", k=3, latent_dim=32, epochs=2,
        output="identity", pictures=False, report=False,
    )  # fmt: skip
    yield from _serve(out)


def test_sae_pick_a_latent_see_its_top_inputs_and_steer(browser, sae_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    d = browser
    d.get(sae_url)
    _wait(d, lambda d: d.execute_script("return document.body.dataset.ready === '1'"))
    assert d.find_element(By.ID, "features-card").is_displayed()
    assert not d.find_element(By.ID, "sliders-card").is_displayed()
    options = d.find_elements(By.CSS_SELECTOR, "#latent-list option")
    assert len(options) == 32 and options[0].text.startswith("latent ")
    _wait(d, lambda d: _src(d, "#steer-out img"))
    first_top = _src(d, "#latent-tops img")
    assert first_top and _src(d, "#latent-direction img").startswith("data:image/png")
    # another latent: its own top inputs
    Select(d.find_element(By.ID, "latent-list")).select_by_index(1)
    _wait(d, lambda d: _src(d, "#latent-tops img") != first_top)
    # the slider sets the latent's activation: the steered picture changes
    _wait(
        d,
        lambda d: (
            d.execute_script("return window.aekitExplorer.features.busy") is False
        ),
    )
    before = _src(d, "#steer-out img")
    steered = d.execute_script("return window.aekitExplorer.features.steered")
    d.execute_script(
        """const s = document.getElementById('steer');
           s.value = s.max; s.dispatchEvent(new Event('input'));"""
    )
    _wait(d, lambda d: d.execute_script(
        "return window.aekitExplorer.features.steered") > steered)  # fmt: skip
    _wait(d, lambda d: _src(d, "#steer-out img") != before)
    assert "decoded with" in d.find_element(By.ID, "steer-text").text
    assert _error_shown(d) == ""
