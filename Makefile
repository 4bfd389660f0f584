# crmlab — two commands: `make lab` (open the course) and `make test` (run everything).
# Every target bootstraps .venv from pyproject.toml + constraints.txt on a bare machine
# with python3 and pip; a stamp file skips the install when nothing changed.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.crmlab-installed
WORKERS ?= 2
MIN_VENV ?= build/venv-min
MIN_STAMP := $(MIN_VENV)/.crmlab-installed
SUBMISSIONS ?= submissions
GRADES ?= grades
export PYTHONHASHSEED := 0
# one BLAS thread per process: deterministic reductions, no oversubscription under pytest -n
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.PHONY: help install lab test test-min test-spark unit nbtest notebooks data exercises student-copies grade lock bench lint clean site site-check

help:
	@echo "make lab        open JupyterLab on the course (installs on first run)"
	@echo "make test       run the whole suite: unit, recovery, replication, notebooks, exercises"
	@echo "make test-min   the unit tests in build/venv-min, with the lowest versions pyproject.toml allows"
	@echo "make test-spark crmlab.scale on Spark local[2] (installs the spark extra; needs Java 17)"
	@echo "make notebooks  re-execute every notebook in place (deterministic)"
	@echo "make data       regenerate datasets/ from the generator (default seed)"
	@echo "make exercises  build student copies and grading specs into build/exercises (instructors)"
	@echo "make student-copies  build, check and publish the student copies (English and 中文) into notebooks/exercises/"
	@echo "make grade      grade SUBMISSIONS=dir into the folder GRADES=grades, each notebook in a sandbox"
	@echo "                (SEED_MAP=csv per-student worlds, JOBS=n at once, TIMEOUT=s per notebook, MEMORY=MB,"
	@echo "                REGRADE=1 grade again what is already graded, UNSAFE=1 no sandbox: trusted files only)"
	@echo "make bench      run the benchmarks (not part of the tests)"
	@echo "make site       build the course site (English + 中文, offline) into build/site"
	@echo "make site-check check build/site and take browser screenshots into build/site-check"
	@echo "make lock       re-resolve constraints.txt (exact versions) on purpose"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable ".[dev,grading,scale,docs]"
	$(BIN)/python -m ipykernel install --sys-prefix --name crmlab --display-name "Python 3 (crmlab)" > /dev/null
	@touch $(STAMP)

install: $(STAMP)

SPARK_STAMP := $(VENV)/.crmlab-spark-installed
$(SPARK_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --constraint constraints.txt --editable ".[dev,grading,scale,spark,docs]"
	@touch $(SPARK_STAMP)

# Rooted at the repository (notebooks/, with the student exercises in notebooks/exercises/), opening the welcome
# notebook; new notebooks get the crmlab kernel. Root (containers, CI boxes) needs --allow-root.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" \
		--LabApp.default_url=/lab/tree/notebooks/00-welcome-and-data-tour.ipynb \
		--MappingKernelManager.default_kernel_name=crmlab \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadscope tests notebooks crmlab --doctest-modules \
		--nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

# The unit tests (not the notebooks, whose stored outputs follow the locked versions) in a
# separate venv holding exactly the floors of pyproject.toml (constraints-min.txt); the other
# packages resolve to their newest compatible release.
$(MIN_STAMP): pyproject.toml constraints-min.txt
	rm -rf $(MIN_VENV)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade "pip>=24"
	$(MIN_VENV)/bin/python -m pip install --quiet --constraint constraints-min.txt --editable ".[dev,grading,scale]"
	@touch $(MIN_STAMP)

# Not here (they run in `make test`): the slow recovery checks, and the per-exercise and hostile-class
# grading suites, which grade dozens of notebooks in sandboxes; test_exercises_pipeline.py still
# builds and grades an exercise with the floor of otter-grader.
test-min: $(MIN_STAMP)
	$(MIN_VENV)/bin/python -m pytest -n $(WORKERS) --dist loadscope -p no:cacheprovider tests crmlab --doctest-modules \
		-m "not slow" --ignore=tests/test_exercises.py --ignore=tests/test_grading_hostile.py

# Spark tests run apart (a JVM start costs seconds): local[2], bound to 127.0.0.1, no UI
test-spark: $(SPARK_STAMP)
	CRMLAB_TEST_SPARK=1 SPARK_LOCAL_IP=127.0.0.1 $(BIN)/python -m pytest tests/test_scale_spark.py

unit: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadscope tests crmlab --doctest-modules

nbtest: $(STAMP)
	$(BIN)/python -m pytest -n $(WORKERS) --dist loadscope notebooks \
		--nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

notebooks: $(STAMP)
	$(BIN)/crmlab notebooks
	$(BIN)/crmlab translate sync    # the Chinese twins take the new outputs (prose edits show as stale)

data: $(STAMP)
	$(BIN)/crmlab generate --out datasets --force

exercises: $(STAMP)
	$(BIN)/crmlab exercises build --out build/exercises

student-copies: $(STAMP)
	$(BIN)/crmlab exercises publish --out build/exercises --to notebooks/exercises

grade: $(STAMP)
	$(BIN)/crmlab exercises grade $(SUBMISSIONS) --out $(GRADES) $(if $(SEED_MAP),--seed-map $(SEED_MAP)) \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(TIMEOUT),--timeout $(TIMEOUT)) $(if $(MEMORY),--memory $(MEMORY)) \
		$(if $(REGRADE),--regrade) $(if $(UNSAFE),--unsafe)

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

site: $(STAMP)
	$(BIN)/crmlab site build --out build/site

site-check: $(STAMP)
	$(BIN)/crmlab site check --site build/site --out build/site-check

lint: $(STAMP)
	$(BIN)/ruff check crmlab tests benchmarks

lock:
	rm -rf build/lockenv
	$(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip install --quiet --upgrade "pip>=24"
	build/lockenv/bin/python -m pip install --quiet --editable ".[dev,grading,scale,spark,docs]"
	build/lockenv/bin/python -m pip freeze --exclude-editable | grep -v "^crmlab" > constraints.txt
	rm -rf build/lockenv

clean:
	rm -rf build .pytest_cache
