"""The command report in a real browser (headless Chromium) and as PDF (WeasyPrint + pdftoppm).

Skipped with the reason when chromium, pdftoppm or WeasyPrint is missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import equity_metrics as em
from equity_metrics.errors import EquityMetricsError

try:
    em.datasets.sample_path()
except EquityMetricsError as exc:  # pragma: no cover
    pytest.skip(f"synthetic samples not available: {exc}", allow_module_level=True)

from equity_metrics.report import build_report, sample_config
from equity_metrics.report.html import SECTIONS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or (
    "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
PDFTOPPM = shutil.which("pdftoppm")
PDFTOTEXT = shutil.which("pdftotext")


def _flags(profile: Path) -> list[str]:
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            f"--user-data-dir={profile}"]


def _image(path: Path) -> np.ndarray:
    try:
        from PIL import Image

        return np.asarray(Image.open(path).convert("RGB"), dtype=float)
    except ImportError:  # pragma: no cover
        import matplotlib.image as mpimg

        return np.asarray(mpimg.imread(path), dtype=float)[..., :3]


def _not_blank(img: np.ndarray) -> bool:
    """More than one colour, and a real share of non-background pixels."""
    flat = img.reshape(-1, img.shape[-1])
    bg = np.median(flat, axis=0)
    differs = np.abs(flat - bg).sum(axis=1) > 30 * (1 if flat.max() > 1.5 else 1 / 255)
    return bool(flat.std(axis=0).max() > 0) and differs.mean() > 0.01


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> tuple[Path, object]:
    rep = build_report(sample_config())
    p = tmp_path_factory.mktemp("report") / "report.html"
    rep.to_html(p)
    return p, rep


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_rendered_dom_has_sections_and_figures(report_file, tmp_path):
    path, rep = report_file
    cmd = _flags(tmp_path / "profile") + ["--dump-dom", path.as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    dom = res.stdout
    assert res.returncode == 0 and "</html>" in dom, res.stderr[-2000:]
    for i, (anchor, _) in enumerate(SECTIONS, 1):
        m = re.search(rf'<h2 id="h-{anchor}">(.*?)</h2>', dom)
        assert m and m.group(1).startswith(f"{i}. "), anchor
    svgs = re.findall(r"<svg\b.*?</svg>", dom, re.S)
    assert len(svgs) >= 7
    for s in svgs:
        assert len(re.findall(r"<(path|use|text)\b", s)) > 5  # drawn, not empty
    assert "<script" not in dom.lower()
    head = rep.data.headline.set_index("group").loc["Black", "ratio"]
    assert f"{head:.1f} times the rate of White people" in dom


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("width", [1200, 400])
def test_screenshot_not_blank(report_file, tmp_path, width):
    path, _ = report_file
    png = tmp_path / f"shot_{width}.png"
    cmd = _flags(tmp_path / "profile") + [f"--screenshot={png}", f"--window-size={width},2400", path.as_uri()]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert png.exists(), res.stderr[-2000:]
    img = _image(png)
    assert img.shape[1] == width
    assert _not_blank(img)
    # the top band (title + headline) has text in it
    assert _not_blank(img[: img.shape[0] // 4])


def _weasyprint() -> bool:
    from equity_metrics.report.pdf import weasyprint_available

    return weasyprint_available()


@pytest.mark.skipif(PDFTOPPM is None, reason="pdftoppm (poppler-utils) is not installed")
def test_pdf_pages_not_blank_and_deterministic(report_file, tmp_path):
    if not _weasyprint():
        pytest.skip("WeasyPrint is not installed (pip install \"equity_metrics[pdf]\")")
    _, rep = report_file
    pdf = rep.to_pdf(tmp_path / "report.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and b"CreationDate" not in data
    assert build_report(sample_config()).pdf() == data  # byte-identical
    res = subprocess.run([PDFTOPPM, "-png", "-r", "50", str(pdf), str(tmp_path / "page")], capture_output=True,
                         timeout=180)
    assert res.returncode == 0, res.stderr[-2000:]
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 6
    for p in pages:
        assert _not_blank(_image(p)), p.name


@pytest.mark.skipif(PDFTOTEXT is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_shows_compact_tables_and_points_to_full_ones(report_file, tmp_path):
    if not _weasyprint():
        pytest.skip("WeasyPrint is not installed (pip install \"equity_metrics[pdf]\")")
    _, rep = report_file
    pdf = rep.to_pdf(tmp_path / "report.pdf")
    res = subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True, timeout=120)
    text = " ".join(res.stdout.split())
    assert "By legal power" in text and "Misuse of Drugs Act 1971 (section 23)" in text
    # the closed "All groups" tables (captions "...: all groups") are not printed; the PDF says where they are
    assert ": all groups" not in text
    assert text.count("HTML version of this report") == 3 and "ratios_by_legal_power.csv" in text
    assert "synthetic residential population (synthetic)" not in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
@pytest.mark.parametrize("width, stacked", [(400, True), (1100, False)])
def test_tables_fit_the_screen(report_file, tmp_path, width, stacked):
    """At 400 px the data tables stack into label / value lines and none scrolls sideways.

    A test-only copy of the page gets a small script that measures each table's box (the
    report itself has no script) and writes the result into the DOM, which Chromium dumps.
    """
    path, _ = report_file
    probe = ("<script>window.addEventListener('load',function(){var o=[];"
             "document.querySelectorAll('.em-report .table-wrap').forEach(function(w,i){"
             "var t=w.querySelector('table.stack');if(t&&w.scrollWidth>w.clientWidth+1)o.push(i);});"
             "var td=document.querySelector('table.stack td');"
             "document.body.setAttribute('data-overflow',o.join(','));"
             "document.body.setAttribute('data-td',getComputedStyle(td).display);});</script>")
    page = tmp_path / "probe.html"
    page.write_text(path.read_text(encoding="utf-8").replace("</body>", probe + "</body>"), encoding="utf-8")
    cmd = _flags(tmp_path / "profile") + [f"--window-size={width},900", "--virtual-time-budget=3000", "--dump-dom",
                                          page.as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'<body data-overflow="([^"]*)" data-td="([^"]*)"', dom)
    assert m, dom[:500]
    assert (m.group(2) == "flex") == stacked
    if stacked:
        assert m.group(1) == "", f"tables wider than a {width} px screen: {m.group(1)}"
