"""Run with .venv-rasa's Python from the project root: ARGS = the trained model, then a JSON file
of {text: the web app's sentence vector}. Parses each text through the model twice, with the
vector in the message's metadata (as the web app sends it) and without (as bare REST does), and
prints one JSON line: both parses, whether the encoder was loaded by the first pass, and the
metadata Rasa kept with the message (stored, and sent to the actions with every tracker)."""
import asyncio
import json
import os
import sys

sys.path.insert(0, os.getcwd())

from rasa.core.agent import Agent  # noqa: E402
from rasa.core.channels.channel import UserMessage  # noqa: E402

from framework.conversation import MESSAGE_ID, SENTENCE_VECTOR  # noqa: E402
from nlu_components.sentence_embeddings import SentenceEmbeddingFeaturizer  # noqa: E402


def featurizer(agent: Agent) -> SentenceEmbeddingFeaturizer:
    # The graph runner builds each component on first use; one parse has built them all.
    found = [component for component in _components(agent) if isinstance(component, SentenceEmbeddingFeaturizer)]
    assert len(found) == 1, found
    return found[0]


def _components(agent: Agent):
    runner = agent.processor.graph_runner
    for node in runner._instantiated_nodes.values():
        yield node._component


async def main(model: str, vectors_file: str) -> dict:
    vectors = json.loads(open(vectors_file, encoding="utf-8").read())
    agent = Agent.load(model)
    report = {"with": {}, "without": {}, "kept_metadata": {}}
    for text, vector in vectors.items():
        metadata = {MESSAGE_ID: 1, SENTENCE_VECTOR: vector}
        message = UserMessage(text, sender_id="probe", metadata=metadata)
        report["with"][text] = (await agent.processor.parse_message(message))["intent_ranking"]
        report["kept_metadata"][text] = sorted(metadata)
    report["encoder_loaded_with"] = featurizer(agent)._hidden_states is not None
    for text in vectors:
        message = UserMessage(text, sender_id="probe")
        report["without"][text] = (await agent.processor.parse_message(message))["intent_ranking"]
    report["encoder_loaded_without"] = featurizer(agent)._hidden_states is not None
    return report


print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2]))))
