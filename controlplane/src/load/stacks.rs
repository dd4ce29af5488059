//! Several templates as several stacks: their names, which parameters each one takes, the
//! order they are created in, and parameter values that name another stack's resources
//! (`--param VpcId=network.Vpc`).

use super::*;

/// One `-t [NAME=]FILE`: a template and the stack it is created as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackFile {
    /// The stack name (`AWS::StackName`, part of every id vpcsim derives). `None`: the file
    /// name without its extension, with `-2`, `-3`, ... added when several files share it.
    pub stack_name: Option<String>,
    /// The template file.
    pub path: PathBuf,
}

impl StackFile {
    /// `NAME=FILE` or `FILE`. An argument naming an existing file or directory is always a
    /// path, even with a `=` in it; otherwise the text before the first `=` is the stack name.
    pub fn parse(arg: &Path) -> StackFile {
        let unnamed = StackFile {
            stack_name: None,
            path: arg.to_path_buf(),
        };
        if arg.exists() {
            return unnamed;
        }
        match arg.to_str().and_then(|s| s.split_once('=')) {
            Some((name, file)) if !name.is_empty() && !file.is_empty() => StackFile {
                stack_name: Some(name.to_string()),
                path: PathBuf::from(file),
            },
            _ => unnamed,
        }
    }
}

/// A parsed template and the stack name it is created under.
pub(super) struct Stack {
    pub(super) name: String,
    pub(super) template: cfn::Template,
}

/// CloudFormation's rule for stack names: a letter, then letters, digits and hyphens, at
/// most 128 characters.
pub(super) fn valid_stack_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Logical ids are alphanumeric; `corp.example.com` is therefore never read as a reference.
fn is_logical_id(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `Stack.LogicalId` when `Stack` is one of `names`.
fn stack_reference<'v>(item: &'v str, names: &[&str]) -> Option<(&'v str, &'v str)> {
    let (stack, lid) = item.trim().split_once('.')?;
    (names.contains(&stack) && is_logical_id(lid)).then_some((stack, lid))
}

fn error(file: &Path, logical_id: Option<&str>, code: &str, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        file: file.to_path_buf(),
        logical_id: logical_id.map(str::to_string),
        code: code.into(),
        message,
    }
}

impl Builder {
    /// Give each template its stack name: the one asked for, or the file name. A name that
    /// CloudFormation would refuse, or a second stack of one name, is an error and that
    /// template is not loaded.
    pub(super) fn name_stacks(
        &mut self,
        parsed: Vec<(Option<String>, cfn::Template)>,
    ) -> Vec<Stack> {
        let explicit: HashSet<String> = parsed.iter().filter_map(|(n, _)| n.clone()).collect();
        let mut taken: HashSet<String> = HashSet::new();
        let mut stems: HashMap<String, usize> = HashMap::new();
        let mut stacks = Vec::new();
        for (name, template) in parsed {
            let name = match name {
                Some(n) if !valid_stack_name(&n) => {
                    self.diags.push(error(
                        &template.path,
                        None,
                        "ValidationError",
                        format!("stack name {n:?} must start with a letter and hold only letters, digits and hyphens (at most 128 characters)"),
                    ));
                    continue;
                }
                Some(n) if !taken.insert(n.clone()) => {
                    self.diags.push(error(
                        &template.path,
                        None,
                        "AlreadyExistsException",
                        format!("stack {n} already exists: each -t NAME=FILE needs its own NAME"),
                    ));
                    continue;
                }
                Some(n) => n,
                None => {
                    let stem = match template.path.to_str() {
                        // A template on standard input (`-t -`).
                        Some("-") => "stdin".to_string(),
                        _ => template
                            .path
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_else(|| "stack".into()),
                    };
                    let n = stems.entry(stem.clone()).or_insert(0);
                    loop {
                        *n += 1;
                        let candidate = if *n == 1 {
                            stem.clone()
                        } else {
                            format!("{stem}-{n}")
                        };
                        if !explicit.contains(&candidate) && taken.insert(candidate.clone()) {
                            break candidate;
                        }
                    }
                }
            };
            stacks.push(Stack { name, template });
        }
        stacks
    }

    /// Every `--param` must reach a parameter: `Key` some template's, `Stack:Key` that stack's.
    pub(super) fn check_parameters(&mut self, stacks: &[Stack], opts: &LoadOptions) {
        let names: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
        let declares = |s: &Stack, key: &str| s.template.parameters.iter().any(|p| p.name == key);
        let first = stacks
            .first()
            .map(|s| s.template.path.clone())
            .unwrap_or_default();
        for key in opts.parameters.keys() {
            let problem = match key.split_once(':') {
                Some((stack, name)) => match stacks.iter().find(|s| s.name == stack) {
                    None => Some((
                        first.clone(),
                        format!(
                            "--param {key}: no stack named {stack} (stacks: {})",
                            names.join(", ")
                        ),
                    )),
                    Some(s) if !declares(s, name) => Some((
                        s.template.path.clone(),
                        format!("--param {key}: stack {stack} declares no parameter named {name}"),
                    )),
                    Some(_) => None,
                },
                None if !stacks.iter().any(|s| declares(s, key)) => Some((
                    first.clone(),
                    format!("--param {key}: no template declares a parameter named {key}"),
                )),
                None => None,
            };
            if let Some((file, message)) = problem {
                self.diags
                    .push(error(&file, None, "UnknownParameter", message));
            }
        }
    }

    /// The parameter values given for one stack, as written: `Stack:Key` wins over `Key`.
    fn given_parameters<'o>(stack: &Stack, opts: &'o LoadOptions) -> Vec<(String, &'o str)> {
        stack
            .template
            .parameters
            .iter()
            .filter_map(|p| {
                opts.parameters
                    .get(&format!("{}:{}", stack.name, p.name))
                    .or_else(|| opts.parameters.get(&p.name))
                    .map(|v| (p.name.clone(), v.as_str()))
            })
            .collect()
    }

    /// The order stacks are created in: as given, except that a stack whose parameters name
    /// another stack's resources comes after that stack. Stacks that name each other are an
    /// error and keep the order given.
    pub(super) fn stack_order(&mut self, stacks: &[Stack], opts: &LoadOptions) -> Vec<usize> {
        let names: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
        let deps: Vec<Vec<usize>> = stacks
            .iter()
            .enumerate()
            .map(|(i, s)| {
                // `--custom-attr` values of this stack's custom resources name resources too.
                let prefix = format!("{}.", s.name);
                let custom = opts
                    .custom_attributes
                    .iter()
                    .filter(|(k, _)| k.starts_with(&prefix))
                    .filter_map(|(_, v)| v.split_once('.'))
                    .filter(|(stack, _)| names.contains(stack))
                    .map(|(stack, _)| stack);
                let mut d: Vec<usize> = Self::given_parameters(s, opts)
                    .into_iter()
                    .flat_map(|(_, v)| v.split(','))
                    .filter_map(|item| stack_reference(item, &names))
                    .map(|(stack, _)| stack)
                    .chain(custom)
                    .filter_map(|stack| names.iter().position(|n| *n == stack))
                    .filter(|&j| j != i)
                    .collect();
                d.sort_unstable();
                d.dedup();
                d
            })
            .collect();
        let mut order = Vec::with_capacity(stacks.len());
        let mut placed = vec![false; stacks.len()];
        while order.len() < stacks.len() {
            let next =
                (0..stacks.len()).find(|&i| !placed[i] && deps[i].iter().all(|&j| placed[j]));
            let Some(i) = next else {
                let rest: Vec<usize> = (0..stacks.len()).filter(|&i| !placed[i]).collect();
                let cycle: Vec<&str> = rest.iter().map(|&i| names[i]).collect();
                self.diags.push(error(
                    &stacks[rest[0]].template.path,
                    None,
                    "CircularDependency",
                    format!(
                        "the parameters of stacks {} name each other's resources: no order creates them",
                        cycle.join(", ")
                    ),
                ));
                order.extend(rest);
                break;
            };
            placed[i] = true;
            order.push(i);
        }
        order
    }

    /// The parameter values of one stack, with `Stack.LogicalId` items (in lists too) replaced
    /// by what `Ref` of that resource gives. `None` when a value names nothing (reported), or
    /// names a stack or resource that failed to load (already reported).
    pub(super) fn stack_parameters(
        &mut self,
        stack: &Stack,
        stacks: &[Stack],
        opts: &LoadOptions,
        failed: &HashSet<String>,
    ) -> Option<BTreeMap<String, String>> {
        let names: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
        let mut out = BTreeMap::new();
        let mut ok = true;
        for (param, value) in Self::given_parameters(stack, opts) {
            let mut items = Vec::new();
            for item in value.split(',') {
                let Some((other, lid)) = stack_reference(item, &names) else {
                    items.push(item.to_string());
                    continue;
                };
                match self.stack_resource(other, lid, stacks, failed) {
                    Ok(Some(v)) => items.push(v),
                    Ok(None) => ok = false,
                    Err(why) => {
                        ok = false;
                        self.diags.push(error(
                            &stack.template.path,
                            Some(&param),
                            "UnresolvedReference",
                            format!("--param {param}={value}: {why}"),
                        ));
                    }
                }
            }
            out.insert(param, items.join(","));
        }
        ok.then_some(out)
    }

    /// What a `--custom-attr` value `Stack.LogicalId` (`Ref`) or `Stack.LogicalId.Attribute`
    /// (`Fn::GetAtt`) names, when that stack is loaded.
    pub(super) fn stack_reference_value(&self, value: &str) -> Option<String> {
        let (stack, rest) = value.trim().split_once('.')?;
        let &t = self.stack_index.get(stack)?;
        let (lid, attr) = match rest.split_once('.') {
            Some((lid, attr)) => (lid, Some(attr)),
            None => (rest, None),
        };
        let &r = self.by_logical.get(&(t, lid.to_string()))?;
        let v = match attr {
            Some(a) => self.attribute(r, lid, a).ok()?,
            None => self.ref_value(r, t, lid),
        };
        props::scalar_string(&v)
    }

    /// `Ref` of `lid` of stack `name`; `Ok(None)` when it failed (already reported).
    fn stack_resource(
        &self,
        name: &str,
        lid: &str,
        stacks: &[Stack],
        failed: &HashSet<String>,
    ) -> Result<Option<String>, String> {
        if failed.contains(name) {
            return Ok(None);
        }
        let Some(&t) = self.stack_index.get(name) else {
            return Err(format!(
                "stack {name} is not created yet (its parameters name this stack's resources too)"
            ));
        };
        match self.by_logical.get(&(t, lid.to_string())) {
            Some(Ref::Failed) => Ok(None),
            Some(&r) => Ok(props::scalar_string(&self.ref_value(r, t, lid))),
            None => {
                let declared = stacks
                    .iter()
                    .find(|s| s.name == name)
                    .and_then(|s| s.template.resources.iter().find(|r| r.logical_id == lid));
                Err(match declared {
                    Some(r) => format!(
                        "resource {lid} of stack {name} is not created (its Condition {} is false)",
                        r.condition.as_deref().unwrap_or("")
                    ),
                    None => format!("stack {name} has no resource {lid}"),
                })
            }
        }
    }

    /// `--custom-attr Stack.LogicalId.Attribute=Value`: each must name an attribute of a custom
    /// resource of a loaded stack.
    pub(super) fn check_custom_attributes(&mut self, stacks: &[Stack], opts: &LoadOptions) {
        let first = stacks
            .first()
            .map(|s| s.template.path.clone())
            .unwrap_or_default();
        for (key, value) in &opts.custom_attributes {
            let mut parts = key.splitn(3, '.');
            let (Some(stack), Some(lid), Some(attr)) = (parts.next(), parts.next(), parts.next())
            else {
                self.diags.push(error(
                    &first,
                    None,
                    "InvalidParameterValue",
                    format!(
                        "--custom-attr {key}={value}: expected Stack.LogicalId.Attribute=Value"
                    ),
                ));
                continue;
            };
            let Some(s) = stacks.iter().find(|s| s.name == stack) else {
                let names: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
                self.diags.push(error(
                    &first,
                    None,
                    "UnresolvedReference",
                    format!(
                        "--custom-attr {key}: no stack named {stack} (stacks: {})",
                        names.join(", ")
                    ),
                ));
                continue;
            };
            let problem = match s.template.resources.iter().find(|r| r.logical_id == lid) {
                None => Some((
                    "UnresolvedReference",
                    format!("--custom-attr {key}: stack {stack} has no resource {lid}"),
                )),
                Some(r) if !is_custom_resource(&r.type_) => Some((
                    "InvalidParameterValue",
                    format!(
                        "--custom-attr {key}: {lid} is an {}; only custom resources (Custom::*, AWS::CloudFormation::CustomResource) take attributes from the command line",
                        r.type_
                    ),
                )),
                Some(_) => None,
            };
            match problem {
                Some((code, message)) => {
                    self.diags
                        .push(error(&s.template.path, Some(lid), code, message))
                }
                None => {
                    self.custom_attributes.insert(
                        (stack.to_string(), lid.to_string(), attr.to_string()),
                        value.clone(),
                    );
                }
            }
        }
    }
}

/// A resource CloudFormation hands to a Lambda function or SNS topic of the template's author.
pub(super) fn is_custom_resource(kind: &str) -> bool {
    kind.starts_with("Custom::") || kind == "AWS::CloudFormation::CustomResource"
}
