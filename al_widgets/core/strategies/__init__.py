"""Query strategies, one module per family; the menu the UI offers (names -> classes) is ``catalog``.

* ``base``: the contract (``score`` then ``query_scored`` -> indices and scores) and its checks;
* ``uncertainty_sampling``: random, least confidence, margin, entropy;
* ``disagreement``: BALD, query by committee, max variance;
* ``change``: expected model change; ``diversity``: information density, diverse batches;
* ``multilabel``: tag entropy, tag margin, MMC (sets of tags);
* ``batch``: TypiClust, BADGE, CoreSet, CLUE, focused CLUE; ``auto``: a strategy that picks one;
* ``coldstart``: what to label before a model can be trained.
"""
from .auto import AutoSelector
from .base import QueryStrategy, check_k, check_positive_ints, top_k
from .batch import BADGE, CLUE, CoreSet, FocusedCLUE, TypiClust
from .catalog import DEFAULTS, REGISTRY, available_strategies, check_task, get_strategy
from .change import ExpectedModelChange
from .disagreement import BALD, MaxVariance, QueryByCommittee
from .diversity import DiverseBatch, InformationDensity
from .multilabel import MaxLossReduction, TagCLUE, TagEntropy, TagMargin
from .uncertainty_sampling import Entropy, LeastConfident, Margin, RandomSampling

# the menu, in the order the UI shows it (add your own: REGISTRY[MyStrategy.name] = MyStrategy)
REGISTRY.update({cls.name: cls for cls in (
    RandomSampling, LeastConfident, Margin, Entropy, BALD, QueryByCommittee, MaxVariance, ExpectedModelChange,
    InformationDensity, DiverseBatch, TypiClust, BADGE, CoreSet, CLUE, FocusedCLUE, AutoSelector,
    TagEntropy, TagMargin, MaxLossReduction, TagCLUE)})

__all__ = ["AutoSelector", "BADGE", "BALD", "CLUE", "CoreSet", "DEFAULTS", "DiverseBatch", "Entropy",
           "ExpectedModelChange", "FocusedCLUE", "InformationDensity", "LeastConfident", "Margin",
           "MaxLossReduction", "MaxVariance", "QueryByCommittee", "QueryStrategy", "REGISTRY", "RandomSampling",
           "TagCLUE", "TagEntropy", "TagMargin", "TypiClust", "available_strategies", "check_k", "check_positive_ints",
           "check_task", "get_strategy", "top_k"]
