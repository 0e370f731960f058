"""Email bodies in Vietnamese: one folder per email with subject.txt, body.txt and body.html."""
