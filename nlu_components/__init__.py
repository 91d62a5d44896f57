"""Custom Rasa NLU components, loaded by Rasa from config.yml; loading them also makes
Rasa's check of each action response cheaper (action_validation.py)."""
from nlu_components import action_validation

action_validation.install()
