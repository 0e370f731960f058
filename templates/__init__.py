"""Email bodies in Vietnamese: one folder per email with subject.txt, body.txt and body.html;
form specs in forms/."""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent
