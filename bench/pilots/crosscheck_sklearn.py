"""scikit-learn on the features bench/pilots/crosscheck.ts wrote: StandardScaler + LogisticRegression
(lbfgs, C = 1, the same gradient tolerance on the summed objective, 1000 iterations) and
KNeighborsClassifier (k = 20, cosine, distance-weighted), as spikessl's probe() fits them.
Usage: /usr/bin/python3 bench/pilots/crosscheck_sklearn.py DIR"""
import json, sys, time
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.preprocessing import StandardScaler

d = sys.argv[1]
ours = json.load(open(f"{d}/ours.json"))
X = np.fromfile(f"{d}/train.f32", dtype=np.float32).reshape(ours["n"], ours["dim"])
y = np.fromfile(f"{d}/train.labels.i32", dtype=np.int32)
Xv = np.fromfile(f"{d}/val.f32", dtype=np.float32).reshape(ours["nVal"], ours["dim"])
yv = np.fromfile(f"{d}/val.labels.i32", dtype=np.int32)
knn = KNeighborsClassifier(n_neighbors=20, metric="cosine", weights="distance").fit(X, y).score(Xv, yv)
sc = StandardScaler().fit(X)
t0 = time.time()
# scikit-learn 1.2's lbfgs bounds the gradient of the summed loss by tol: ours is 1e-4 per row.
lr = LogisticRegression(C=1.0, tol=1e-4 * len(y), max_iter=1000).fit(sc.transform(X), y)
lin = lr.score(sc.transform(Xv), yv)
print(json.dumps({"sklearn": sklearn.__version__, "linear": lin, "knn": knn, "n_iter": int(lr.n_iter_[0]), "seconds": time.time() - t0,
                  "ours_linear": ours["linear"], "ours_knn": ours["knn"], "ours_iterations": ours["iterations"]}))
