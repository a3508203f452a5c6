"""Custom Rasa NLU components for Vietnamese chat text."""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from bot.domain import codes
from nlu.text import normalize_token


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class VietnameseTokenizer(WhitespaceTokenizer):
    """Whitespace tokens whose lemma has no diacritics and no chat abbreviations.

    Citizens write "thủ tục", "thu tuc" and "tt" for the same thing. The token text
    and offsets stay untouched (entities keep their original spelling); only the
    lemma, which the CountVectorsFeaturizers read (use_lemma defaults to true), is
    folded, so every featurizer downstream sees one spelling.
    """

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Split on whitespace, then fold each token's lemma."""
        tokens = super().tokenize(message, attribute)
        for token in tokens:
            token.lemma = normalize_token(token.text)
        return tokens


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class VietnameseIntentClassifier(LogisticRegressionClassifier):
    """Logistic regression on length-normalised n-gram counts, with a settable C.

    Rasa's LogisticRegressionClassifier fits raw counts with C=1: long rambling messages
    dominate and short ones ("ko", "ok", "hi") are under-fitted. Normalising each sentence
    vector to unit length and a weaker regularisation fix both, at the same speed.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Rasa's defaults plus C (inverse regularisation strength)."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 10.0}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        """Same as the parent, with C from the config."""
        super().__init__(config, name, model_storage, resource)
        self.clf = LogisticRegression(
            C=float(self.config["C"]),
            solver=self.config["solver"],
            max_iter=self.config["max_iter"],
            class_weight="balanced",
            tol=self.config["tol"],
            random_state=self.config["random_state"],
        )

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        """Each featurizer's sentence vector at unit length, side by side.

        Normalising per featurizer keeps message length from deciding the intent, and keeps
        the few word features ("không muốn", "đã gửi") and the case-code regex from being
        drowned by the many character n-grams of a long message.
        """
        rows = []
        for message in messages:
            blocks = sorted(
                (
                    f
                    for f in message.features
                    if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and f.is_sparse()
                ),
                key=lambda f: str(f.origin),
            )
            rows.append(hstack([normalize(csr_matrix(f.features), norm="l2") for f in blocks]))
        return csr_matrix(vstack(rows))


# A case code as the citizen may paste it: XXXX-XXXXX, any case, dash or space optional.
_CODE_SHAPE = re.compile(r"[0-9A-Za-z]{4}[\s\-]?[0-9A-Za-z]{5}")


def is_case_code(text: str) -> bool:
    """True when `text` is a case code rather than two words that happen to have its shape.

    A valid code (check symbol matches) always counts; a mistyped one counts when it has a
    digit, a dash or is in capitals (it gets the "not found" answer). "giai trinh", "dien
    thoai" or "documents" are words: lower-case letters whose check symbol does not match.
    """
    text = text.strip()
    if not _CODE_SHAPE.fullmatch(text):
        return False
    if codes.parse(text):
        return True
    return any(ch.isdigit() for ch in text) or "-" in text or text.isupper()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class CaseCodeClassifier(GraphComponent, IntentClassifier):
    """A message that is only a case code asks where that case stands.

    Pasting "Q428-VYAM4" (or "q428vyam4") is a status request: the classifier cannot learn
    that from random symbols, so it is decided here, before the fallback. Case-code entities
    that are really words ("giai trinh" typed without diacritics has the shape of a code)
    are dropped from every message, so they are never looked up as codes.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The intent a bare code means."""
        return {"intent": "check_status"}

    def __init__(self, config: dict[str, Any]) -> None:
        """Keep the config."""
        self.intent = str(config["intent"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CaseCodeClassifier:
        """Nothing to train."""
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Drop word-shaped codes; a bare code is a status request with full confidence."""
        for message in messages:
            entities = message.get(ENTITIES) or []
            kept = [
                e
                for e in entities
                if e.get(ENTITY_ATTRIBUTE_TYPE) != "case_code"
                or is_case_code(str(e.get(ENTITY_ATTRIBUTE_VALUE, "")))
            ]
            if len(kept) != len(entities):
                message.set(ENTITIES, kept, add_to_output=True)
            text = str(message.get(TEXT) or "")
            if not text.startswith("/") and is_case_code(text):
                intent = {INTENT_NAME_KEY: self.intent, PREDICTED_CONFIDENCE_KEY: 1.0}
                message.set(INTENT, intent, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [intent], add_to_output=True)
                if not any(e.get(ENTITY_ATTRIBUTE_TYPE) == "case_code" for e in kept):
                    stripped = text.strip()
                    start = text.index(stripped)
                    code = {
                        ENTITY_ATTRIBUTE_TYPE: "case_code",
                        ENTITY_ATTRIBUTE_VALUE: stripped,
                        ENTITY_ATTRIBUTE_START: start,
                        ENTITY_ATTRIBUTE_END: start + len(stripped),
                        EXTRACTOR: self.__class__.__name__,
                    }
                    message.set(ENTITIES, [*kept, code], add_to_output=True)
        return messages
