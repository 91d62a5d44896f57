"""What staff pages show, computed from the outcomes database as plain data: the pupil list,
pupil-voice summaries and change over time, exports, and the council's aggregates.
Plain functions, tested without a web server; the routers in bot/routers only render them."""
