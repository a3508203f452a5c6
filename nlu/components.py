"""Custom Rasa NLU components for Vietnamese chat text."""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message

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
