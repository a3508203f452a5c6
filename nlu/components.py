"""Custom Rasa NLU components for Vietnamese chat text."""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

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
        """Unit-length rows, so message length does not decide the intent."""
        return normalize(super()._create_X(messages), norm="l2", copy=False)
