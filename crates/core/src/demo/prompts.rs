//! Prompt templates of the synthetic demo workload. Each builder returns the prompt text and its
//! *visible* difficulty: the part of the latent difficulty that the text carries (length, number
//! of constraints or steps, labels, fields, code fences, digits, hard vocabulary).
use rand::seq::IndexedRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The task kinds of the demo workload (its `feature` tags).
pub const KINDS: [&str; 5] = [
    "classification",
    "extraction",
    "summarisation",
    "code",
    "reasoning",
];

#[rustfmt::skip]
const PRODUCTS: &[&str] = &[
    "wireless earbuds", "standing desk", "espresso machine", "hiking boots", "robot vacuum",
    "mechanical keyboard", "air purifier", "e-reader", "gaming monitor", "electric kettle",
    "smart thermostat", "office chair", "trail bike", "camera lens", "rice cooker", "tent",
];
#[rustfmt::skip]
const NAMES: &[&str] = &[
    "Alice Moreau", "Bilal Khan", "Chen Wei", "Dana Okafor", "Eva Lindqvist", "Farid Haddad",
    "Grace Park", "Hugo Silva", "Ines Duarte", "Jonas Weber", "Keiko Sato", "Liam O'Brien",
    "Maya Patel", "Nora Jensen", "Omar Aziz", "Priya Raman", "Rosa Jimenez", "Sven Olsen",
];
#[rustfmt::skip]
const CITIES: &[&str] = &[
    "Lisbon", "Nairobi", "Osaka", "Denver", "Krakow", "Montreal", "Lagos", "Melbourne", "Bogotá",
    "Helsinki", "Pune", "Seville", "Tallinn", "Austin",
];
#[rustfmt::skip]
const COMPANIES: &[&str] = &[
    "Northwind", "Blue Harbor Logistics", "Vantage Health", "Quillon Labs", "Ridgeline Energy",
    "Orchid Retail", "Helix Bank", "Copperleaf Media", "Tern Robotics", "Saltmarsh Foods",
];
#[rustfmt::skip]
const GOOD: &[&str] = &[
    "works exactly as advertised", "arrived two days early", "is quiet and sturdy",
    "made my mornings easier", "feels premium for the price", "has a battery that lasts all week",
];
#[rustfmt::skip]
const BAD: &[&str] = &[
    "stopped working after a week", "smells of burnt plastic", "came with a cracked case",
    "is far louder than the listing claims", "needed three calls to support",
    "lost its settings after every update",
];
#[rustfmt::skip]
const HARD_WORDS: &[&str] = &[
    "notwithstanding", "heteroskedastic", "idempotent", "indemnification", "pharmacokinetic",
    "counterfactual", "amortised", "subrogation", "eigenvalue", "jurisdictional", "stochastic",
    "non-repudiation",
];
#[rustfmt::skip]
const TOPICS: &[&str] = &[
    "quarterly earnings call", "incident postmortem", "product requirements document",
    "customer support thread", "research abstract", "board meeting minutes", "legal memo",
    "clinical trial update",
];

fn pick<'a>(rng: &mut ChaCha8Rng, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or_default()
}

/// A business-prose sentence with names, places and figures; `hard` mixes in jargon.
fn sentence(rng: &mut ChaCha8Rng, hard: bool) -> String {
    let (c, n, city) = (pick(rng, COMPANIES), pick(rng, NAMES), pick(rng, CITIES));
    let pct = rng.random_range(2..60);
    let amount = rng.random_range(10..900) * 1000;
    let mut s = match rng.random_range(0..8) {
        0 => format!("{c} reported {pct}% growth in its {city} segment this quarter."),
        1 => format!(
            "{n} approved a budget of ${amount} for the {city} office on {}.",
            date(rng)
        ),
        2 => format!("The team led by {n} shipped the migration {pct} days behind plan."),
        3 => format!("Churn among {city} customers fell to {pct}% after the pricing change."),
        4 => format!("{c} signed a supplier contract worth ${amount} with a firm in {city}."),
        5 => format!("{n} flagged that {pct} of the audited invoices lacked a purchase order."),
        6 => format!("Latency in the {city} region rose by {pct} ms during peak hours."),
        _ => format!("{n} will present the revised forecast for {c} next week."),
    };
    if hard {
        let w = pick(rng, HARD_WORDS);
        s.push_str(&format!(" The {w} clause applies, subject to review."));
    }
    s
}

fn date(rng: &mut ChaCha8Rng) -> String {
    let month = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    format!(
        "{} {}, 20{}",
        month[rng.random_range(0..12)],
        rng.random_range(1..29),
        rng.random_range(19..26)
    )
}

/// Visible difficulty from length: 0 at 200 characters, +0.35 per doubling.
fn length_signal(text: &str) -> f64 {
    0.35 * ((text.len() as f64).max(50.0) / 200.0).log2()
}

/// Pick `n` distinct items.
fn some<'a>(rng: &mut ChaCha8Rng, list: &[&'a str], n: usize) -> Vec<&'a str> {
    list.choose_multiple(rng, n.min(list.len()))
        .copied()
        .collect()
}

/// Build a prompt of kind `kind` (an index into [`KINDS`]): `(text, visible difficulty)`.
pub fn build(rng: &mut ChaCha8Rng, kind: usize) -> (String, f64) {
    let (text, signal) = match kind {
        0 => classification(rng),
        1 => extraction(rng),
        2 => summarisation(rng),
        3 => code(rng),
        _ => reasoning(rng),
    };
    let signal = signal + length_signal(&text);
    (text, signal)
}

fn classification(rng: &mut ChaCha8Rng) -> (String, f64) {
    const LABELS: &[&str] = &[
        "billing",
        "shipping",
        "refund",
        "technical fault",
        "account access",
        "feature request",
        "complaint",
        "praise",
        "fraud report",
        "cancellation",
        "warranty",
        "other",
    ];
    let product = pick(rng, PRODUCTS);
    let mixed = rng.random_bool(0.35);
    let sarcastic = rng.random_bool(0.15);
    let mut review = if sarcastic {
        format!(
            "Oh great, my new {product} {}. Truly a masterpiece.",
            pick(rng, BAD)
        )
    } else if rng.random_bool(0.5) {
        format!("The {product} {}.", pick(rng, GOOD))
    } else {
        format!("The {product} {}.", pick(rng, BAD))
    };
    if mixed {
        review.push_str(&format!(" On the other hand it {}.", pick(rng, GOOD)));
    }
    for _ in 0..rng.random_range(0..4) {
        review.push(' ');
        review.push_str(&sentence(rng, false));
    }
    let n_labels = rng.random_range(2..=LABELS.len());
    let (task, labels) = if n_labels <= 3 {
        (
            "the sentiment of this review",
            "positive, negative or neutral".to_string(),
        )
    } else {
        (
            "this customer message",
            some(rng, LABELS, n_labels).join(", "),
        )
    };
    let rules = [
        "If the message mentions several issues, choose the most urgent one.",
        "Sarcasm counts as negative.",
        "Return JSON with the label and a confidence between 0 and 1.",
        "If no label fits, explain why in one sentence.",
    ];
    let n_rules = rng.random_range(0..=rules.len());
    let mut text = format!("Classify {task} as one of: {labels}.\n\nMessage: {review}\n");
    for r in some(rng, &rules, n_rules) {
        text.push_str(&format!("- {r}\n"));
    }
    text.push_str("Answer with the label only.");
    let signal = -1.2
        + 0.12 * n_labels as f64
        + 0.3 * n_rules as f64
        + 0.5 * f64::from(u8::from(mixed))
        + 0.8 * f64::from(u8::from(sarcastic));
    (text, signal)
}

fn extraction(rng: &mut ChaCha8Rng) -> (String, f64) {
    const FIELDS: &[&str] = &[
        "customer_name",
        "invoice_number",
        "issue_date",
        "due_date",
        "total_amount",
        "currency",
        "vat_number",
        "billing_city",
        "line_items",
        "payment_terms",
        "contact_email",
        "discount",
    ];
    let n_fields = rng.random_range(1..=9);
    let fields = some(rng, FIELDS, n_fields);
    let n_entities = if rng.random_bool(0.25) {
        rng.random_range(2..4)
    } else {
        1
    };
    let mut doc = String::new();
    for i in 0..n_entities {
        doc.push_str(&format!(
            "Invoice INV-{}-{:04} from {} to {} ({}), issued {}, total {}.{:02} EUR, net {} days.",
            rng.random_range(2019..2026),
            rng.random_range(0..10_000),
            pick(rng, COMPANIES),
            pick(rng, NAMES),
            pick(rng, CITIES),
            date(rng),
            rng.random_range(20..50_000),
            rng.random_range(0..100),
            [15, 30, 45, 60][i % 4],
        ));
        for _ in 0..rng.random_range(0..3) {
            doc.push(' ');
            let hard = rng.random_bool(0.2);
            doc.push_str(&sentence(rng, hard));
        }
        doc.push('\n');
    }
    let rules = [
        "Dates must be ISO 8601.",
        "Amounts in cents, as integers.",
        "Use null for any field that is missing.",
        "If several invoices appear, return an array with one object each.",
        "Validate that the VAT number has the right country prefix.",
    ];
    let n_rules = rng.random_range(0..=rules.len());
    let mut text = format!(
        "Extract these fields as JSON: {}.\n\nDocument:\n{doc}",
        fields.join(", ")
    );
    for r in some(rng, &rules, n_rules) {
        text.push_str(&format!("- {r}\n"));
    }
    let digits = text.chars().filter(char::is_ascii_digit).count() as f64;
    let signal = -0.8
        + 0.18 * n_fields as f64
        + 0.3 * n_rules as f64
        + 0.6 * (n_entities - 1) as f64
        + 0.004 * digits;
    (text, signal)
}

fn summarisation(rng: &mut ChaCha8Rng) -> (String, f64) {
    let topic = pick(rng, TOPICS);
    let n_sent = rng.random_range(2..14);
    let hard = rng.random_bool(0.3);
    let body: Vec<String> = (0..n_sent)
        .map(|_| {
            let jargon = hard && rng.random_bool(0.4);
            sentence(rng, jargon)
        })
        .collect();
    let form = match rng.random_range(0..3) {
        0 => format!("in {} bullet points", rng.random_range(2..7)),
        1 => format!(
            "in under {} words",
            [40, 60, 100, 150][rng.random_range(0..4)]
        ),
        _ => "in one paragraph".into(),
    };
    let rules = [
        "Keep every figure exact.",
        "Do not mention people by name.",
        "End with a one-line risk assessment.",
        "Write for an executive who has not read the source.",
        "List open questions separately.",
    ];
    let n_rules = rng.random_range(0..=rules.len());
    let mut text = format!("Summarise the following {topic} {form}.\n");
    for r in some(rng, &rules, n_rules) {
        text.push_str(&format!("- {r}\n"));
    }
    text.push_str(&format!("\n{}", body.join(" ")));
    let signal = -0.6 + 0.35 * n_rules as f64 + 0.9 * f64::from(u8::from(hard));
    (text, signal)
}

fn code(rng: &mut ChaCha8Rng) -> (String, f64) {
    const TASKS: &[(&str, f64)] = &[
        ("returns the sum of the even numbers in a list", -1.0),
        ("reverses the words of a sentence", -0.9),
        (
            "checks whether a string is a palindrome, ignoring punctuation",
            -0.6,
        ),
        ("parses an ISO 8601 date and returns the weekday", 0.0),
        ("merges overlapping intervals", 0.3),
        ("groups anagrams from a list of words", 0.1),
        ("implements an LRU cache with a time-to-live per entry", 1.2),
        (
            "computes the edit distance of two strings in O(n) memory",
            1.4,
        ),
        (
            "implements a thread-safe bounded queue without a global lock",
            2.0,
        ),
        (
            "evaluates arithmetic expressions with precedence and parentheses",
            1.5,
        ),
        (
            "finds the k shortest paths in a weighted directed graph",
            2.2,
        ),
        (
            "implements a rate limiter with a sliding window over distributed nodes",
            2.4,
        ),
    ];
    let langs = ["Python", "TypeScript", "Rust", "Go", "Java"];
    let lang = langs[rng.random_range(0..langs.len())];
    let &(task, base) = TASKS.choose(rng).unwrap_or(&TASKS[0]);
    let rules = [
        "Handle empty input.",
        "Do not use external libraries.",
        "Include unit tests.",
        "State the time and space complexity.",
        "It must be safe to call from several threads.",
        "Keep it idempotent and document every error case.",
    ];
    let n_rules = rng.random_range(0..=rules.len());
    let fix = rng.random_bool(0.3);
    let mut text = if fix {
        format!(
            "This {lang} code should be a function that {task}, but it fails on some inputs. \
             Find the bug and fix it.\n```\nfn solve(xs) {{\n  let mut acc = {};\n  for i in 1..len(xs) {{ acc = step(acc, xs[i]) }}\n  return acc\n}}\n```\n",
            rng.random_range(0..3)
        )
    } else {
        format!("Write a {lang} function that {task}.\n")
    };
    for r in some(rng, &rules, n_rules) {
        text.push_str(&format!("- {r}\n"));
    }
    let signal = 0.2
        + base
        + 0.3 * n_rules as f64
        + 0.4 * f64::from(u8::from(fix))
        + if lang == "Rust" { 0.3 } else { 0.0 };
    (text, signal)
}

fn reasoning(rng: &mut ChaCha8Rng) -> (String, f64) {
    let steps = rng.random_range(1..8);
    let city = pick(rng, CITIES);
    let mut stock = rng.random_range(100..2000);
    let mut text = format!("A warehouse in {city} holds {stock} boxes.");
    let days = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    for day in days.iter().take(steps) {
        match rng.random_range(0..3) {
            0 => {
                let k = rng.random_range(1..stock.max(2) / 2 + 1);
                stock -= k;
                text.push_str(&format!(" On {day}, {k} boxes are shipped."));
            }
            1 => {
                let k = rng.random_range(2..5);
                text.push_str(&format!(
                    " On {day}, it receives {k} times as many boxes as it holds at that moment, minus {}.",
                    stock / 3
                ));
                stock = stock * k - stock / 3;
            }
            _ => {
                let p = rng.random_range(5..40);
                text.push_str(&format!(
                    " On {day}, {p}% of the boxes (rounded down) are damaged and discarded."
                ));
                stock -= stock * p / 100;
            }
        }
    }
    text.push_str(&format!(
        " How many boxes are left after {}?",
        days[steps - 1]
    ));
    let proof = rng.random_bool(0.2);
    if proof {
        text.push_str(&format!(
            " Then prove that no schedule of at most {steps} shipments can leave an odd number of \
             boxes, or give a counterexample, stating the invariant you use."
        ));
    } else if rng.random_bool(0.5) {
        text.push_str(" Explain each step.");
    }
    let signal = -0.7 + 0.45 * steps as f64 + 1.5 * f64::from(u8::from(proof));
    (text, signal)
}
