"""Contract case for crmlab.pls: the PLS path model on the shipped survey."""

from crmlab.pls import PLSPathModel

CASES = {
    PLSPathModel: lambda world: (PLSPathModel("acsi", n_boot=50, seed=1), (world.survey,), {}),
}

CALLS = {
    PLSPathModel: [
        ("index_scores", (), {}),
        ("transform", lambda world: (world.survey.head(20),), {}),
    ],
}
