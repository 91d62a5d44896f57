"""Heard's side of the Rasa server: runs in Rasa's environment (.venv-rasa) and imports nothing of ours.

Rasa takes its secrets on the command line, which every user of the machine can read (ps), and
its REST channel answers anyone. `python -m rasa_server run ...` starts Rasa with the secret
from the environment, and `channels.SignedRestInput` makes the REST channel ask for it too.
"""

SECRET_VARIABLE = "HEARD_RASA_TOKEN"  # signs (HS256) the JWTs the web app sends in its Authorization header
