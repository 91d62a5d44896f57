"""Run with .venv-rasa's Python from the project root: installs the cheaper check as
`python -m rasa_server run` does, then has Rasa's RemoteAction check a good and a bad action server response, with the schema
check jsonschema would repeat on every call made to fail. Prints one JSON line."""
import json
import os
import sys

sys.path.insert(0, os.getcwd())

from jsonschema import ValidationError, validators  # noqa: E402
from rasa.core.actions.action import RemoteAction  # noqa: E402

from rasa_server import action_validation  # noqa: E402

action_validation.install()  # as `python -m rasa_server run` does


def schema_checked_again(cls, schema):
    raise AssertionError("the response schema was checked again")


spec = RemoteAction.action_response_format_spec()
validators.validator_for(spec).check_schema = classmethod(schema_checked_again)
action = RemoteAction("validate_survey_form", None)
good = {"events": [{"event": "slot", "name": "reply", "value": "yes"}], "responses": [{"text": "Thank you."}]}
try:
    action._validate_action_result({"events": "not a list"})
    rejected = None
except ValidationError as error:
    rejected = error.message
print(json.dumps({"accepted": action._validate_action_result(good), "rejected": rejected}))
