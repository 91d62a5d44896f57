"""The chat API: the gateway between a young person's browser and the Rasa engine."""
