"""Rasa's parse of texts, one JSON string a line on stdin -> one JSON object a line on stdout
({"text", "intent", "confidence"}), by the model named on the command line. Runs in
.venv-rasa (scripts/answers_eval.py calls it): the same parse the Rasa server gives."""
import asyncio
import json
import sys

from rasa.core.agent import Agent


async def main(model: str) -> None:
    agent = Agent.load(model)
    for line in sys.stdin:
        if line.strip():
            text = json.loads(line)
            intent = (await agent.parse_message(text))["intent"]
            print(json.dumps({"text": text, "intent": intent.get("name"), "confidence": intent.get("confidence")}),
                  flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
