"""The docs tell the truth: the modules they cite exist, every environment variable is documented,
the README is a front door whose links resolve."""
import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_architecture_page_cites_only_modules_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text()
    cited = set(re.findall(r"`(al_widgets(?:\.[a-z_]+)+)`", text)) | set(re.findall(r"\b(al_widgets\.core\.[a-z_.]+)\b", text))
    assert len(cited) >= 30
    for name in sorted(cited):
        importlib.import_module(name.rstrip("."))  # raises for a module that does not exist
    for room in ("data", "scoring", "strategies", "store", "review", "session", "backends", "layout", "sim"):
        assert f"`{room}/`" in text and (ROOT / "al_widgets" / "core" / room).is_dir()
    for folder in (ROOT / "al_widgets" / "core").iterdir():  # and every room is on the page
        if folder.is_dir() and folder.name != "__pycache__":
            assert f"`{folder.name}/`" in text, folder.name


def test_every_environment_variable_is_in_the_configuration_table():
    used = set()
    for path in [*(ROOT / "al_widgets").rglob("*.py"), *(ROOT / "tests").glob("*.py")]:
        used |= set(re.findall(r"AL_WIDGETS_[A-Z_]*[A-Z]", path.read_text()))
    table = (ROOT / "docs" / "configuration.md").read_text()
    first_cells = re.findall(r"^\| ([^|]+) \|", table, re.M)
    fields = {f"AL_WIDGETS_{f.upper()}" for cell in first_cells for f in re.findall(r"`([a-z_]+)`", cell)}
    documented = set(re.findall(r"`(AL_WIDGETS_[A-Z_]+)`", table)) | fields
    assert used - documented == set()


def test_the_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert text.index("./dev app") < text.index("./dev test") < 2000  # the two commands come first
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        assert (ROOT / link).exists(), link
