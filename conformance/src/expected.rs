//! What the catalogue entry of a case allows, written out for reports: the
//! "expected" side that a failing case shows next to the module's lines
//! (`CaseResult::expected`).

use fcm242d_codegen::model::{AfterResult, FinalResult, Form, Line, Prompt, Response};

use crate::case::{Case, Refusal};

/// The answers the catalogue allows for `case`, one text per alternative
/// (lines separated by `\n`): the refusal a refusal case needs, else every
/// response of the form that ends with one of its success results.
pub fn of_case(case: &Case) -> Vec<String> {
    if let Some(refusal) = case.refusal {
        let result = match refusal {
            Refusal::Error => "ERROR".to_string(),
            Refusal::Cme(code) => format!("+CME ERROR: {code}"),
        };
        return vec![format!("{result}\n(the line must be refused)")];
    }
    let Some(form) = form_of(case) else {
        // A form the embedded catalogue does not have (a report of another
        // catalogue's cases): the results the case itself records.
        return case.finals.iter().map(|f| f.to_string()).collect();
    };
    let allowed: Vec<String> = form
        .responses
        .iter()
        .filter(|r| accepts(case, r))
        .map(|r| response(form, r))
        .collect();
    if allowed.is_empty() {
        vec![format!(
            "{}\n(a response the grammar of `{}` accepts)",
            case.finals.join(" or "),
            case.form
        )]
    } else {
        allowed
    }
}

/// The catalogue's form of `case`.
fn form_of(case: &Case) -> Option<&'static Form> {
    fcm242d_sim::catalog::catalog()
        .command(case.command)?
        .command
        .forms
        .iter()
        .find(|f| f.syntax == case.form)
}

/// Whether response `r` is one an accepted line of `case` may give: it ends
/// with one of the form's success results (any result but a refusal when
/// the case lists none).
fn accepts(case: &Case, r: &Response) -> bool {
    let result = spelling(r.result, r.result_param.as_deref());
    if case.finals.is_empty() {
        !matches!(r.result, FinalResult::Error | FinalResult::CmeError)
    } else {
        case.finals.iter().any(|f| {
            *f == result || (r.result == FinalResult::ConnectN && f.starts_with("CONNECT"))
        })
    }
}

/// How a final result is written (`+CME ERROR: <err>`, `CONNECT <n>` with
/// the parameter's name); empty for none.
pub fn spelling(result: FinalResult, param: Option<&str>) -> String {
    let param = param.unwrap_or("n");
    match result {
        FinalResult::CmeError => format!("+CME ERROR: <{param}>"),
        FinalResult::ConnectN => format!("CONNECT <{param}>"),
        r => crate::report::coverage::final_spelling(r)
            .unwrap_or_default()
            .to_string(),
    }
}

/// One information line's template, with what the catalogue says of it.
fn line(l: &Line) -> String {
    let mut text = l.template().to_string();
    if l.optional() {
        text.push_str("   (optional)");
    }
    if l.repeated() {
        text.push_str("   (may repeat)");
    }
    if l.data().is_some() {
        text.push_str("\n<data>");
    }
    text
}

/// One response of `form` written out: its situation, the prompt of a data
/// phase, its lines, its final result, what follows it, its completion URC.
fn response(form: &Form, r: &Response) -> String {
    let mut out: Vec<String> = Vec::new();
    if let Some(label) = r.case.as_deref().or(r.condition.as_deref()) {
        out.push(format!("({label})"));
    }
    if let Some(phase) = &form.data_phase {
        out.push(match phase.prompt {
            Prompt::Greater => "> (then the payload)".into(),
            Prompt::Connect => "CONNECT (then the payload)".into(),
        });
    }
    out.extend(r.lines.iter().map(line));
    let result = spelling(r.result, r.result_param.as_deref());
    if !result.is_empty() {
        out.push(result);
    }
    if let Some(AfterResult {
        data,
        lines,
        result,
    }) = &r.after_result
    {
        if data.is_some() {
            out.push("<data>".into());
        }
        out.extend(lines.iter().map(line));
        if let Some(second) = result {
            out.push(spelling(*second, None));
        }
    }
    if let Some(c) = &r.completion {
        let urc = match &c.discriminator {
            Some(d) => format!("{}: \"{d}\",...", c.urc),
            None => format!("{}: ...", c.urc),
        };
        out.push(format!("then the URC {urc}"));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::cases::CASES;

    #[test]
    fn a_refusal_case_expects_its_refusal() {
        let c = CASES
            .iter()
            .find(|c| c.refusal == Some(Refusal::Error))
            .unwrap();
        assert_eq!(of_case(c), ["ERROR\n(the line must be refused)"]);
        let c = CASES
            .iter()
            .find(|c| matches!(c.refusal, Some(Refusal::Cme(_))))
            .unwrap();
        assert!(
            of_case(c)[0].starts_with("+CME ERROR: 7"),
            "{:?}",
            of_case(c)
        );
    }

    #[test]
    fn an_accepted_line_expects_the_forms_successful_responses() {
        let mac = CASES
            .iter()
            .find(|c| c.command == "AT+QWLMAC" && c.refusal.is_none() && !c.form.ends_with('?'))
            .unwrap();
        let expected = of_case(mac);
        assert!(
            expected
                .iter()
                .any(|e| e.contains("+QWLMAC: <MAC>") && e.ends_with("OK")),
            "{expected:?}"
        );
        assert!(
            expected.iter().all(|e| !e.contains("ERROR")),
            "{expected:?}"
        );
        // A data phase, both results of a send, and no refusal.
        let send = CASES
            .iter()
            .find(|c| c.command == "AT+QISEND" && c.refusal.is_none() && c.data_phase.is_some())
            .unwrap();
        let expected = of_case(send).join("\n\n");
        assert!(expected.contains("> (then the payload)"), "{expected}");
        assert!(
            expected.contains("SEND OK") && expected.contains("SEND FAIL"),
            "{expected}"
        );
        assert!(!expected.contains("\nERROR"), "{expected}");
        // A deferred completion.
        let open = CASES
            .iter()
            .find(|c| c.command == "AT+QIOPEN" && c.refusal.is_none() && c.completion.is_some())
            .unwrap();
        assert!(
            of_case(open)
                .iter()
                .any(|e| e.contains("then the URC +QIOPEN")),
            "{:?}",
            of_case(open)
        );
    }
}
