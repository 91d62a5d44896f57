"""What every staff page shares: the page frame (pages.py), who may see what (guards.py),
keeping a form across a sign-in (drafts.py), and the staff site's words
(wording.py over labels.yml, messages.py over messages.yml)."""
