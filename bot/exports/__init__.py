"""Files staff download about a pupil: the one-page profile (EHCP Section A draft) as PDF.
Built from bot/reports data; the routers audit every download."""
