//! The catalogue's data model: what one file of `spec/` may say.
//!
//! These types are the single definition of the format. `spec/schema.json` is
//! derived from them (so the doc comments below are what an editor shows), the
//! loader deserializes into them with unknown keys rejected, and every
//! generator reads them. Field names follow `spec/README.md`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One YAML file of the catalogue. Every key is optional; a file usually holds
/// one kind of entry (a chapter's commands, the URCs, the result codes, ...).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecFile {
    /// The function group of the commands in this file (required when `commands` is present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    /// The commands of one chapter of the manual.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<Command>,
    /// Unsolicited result codes, each variant separately.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urcs: Vec<Urc>,
    /// The manual's result-code tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub result_tables: Vec<ResultTable>,
    /// The manual's examples as ordered send / expect steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<Scenario>,
    /// Decisions taken where the manual is damaged or contradicts itself.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errata: Vec<Erratum>,
    /// How the conformance runner reaches each state that preconditions
    /// name (`spec/states.yaml`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub states: Vec<StateRecipe>,
}

/// Function group of a command (one per chapter of the manual).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// General commands and the basic commands `AT`, `ATO`, `+++`.
    General,
    /// Wi-Fi station and access-point commands.
    Wifi,
    /// Bluetooth Low Energy commands.
    Ble,
    /// TCP/UDP socket commands.
    Tcpip,
    /// SSL commands.
    Ssl,
    /// MQTT commands.
    Mqtt,
    /// HTTP(S) commands.
    Http,
    /// PING, DNS and NTP commands.
    Network,
    /// File system (UFS) commands.
    Filesystem,
}

/// Conformance safety class: what running the command does to the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Safety {
    /// Reads state, or changes volatile state that the case restores.
    Safe,
    /// Needs set-up and tear-down (open/close a socket, connect, ...).
    Stateful,
    /// Writes saved configuration.
    Persistent,
    /// Ends or suspends the session (reboot, baud rate, sleep, transparent mode).
    Disruptive,
    /// Cannot be undone from the host (OTA, deleting all files).
    Destructive,
}

/// One AT command with all of its forms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Command {
    /// The command as the manual names it: `AT+Q…`, `AT`, `ATO` or `+++`.
    pub name: String,
    /// The first sentence of the manual's description.
    pub summary: String,
    /// The rest of the manual's description, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Conformance safety class.
    pub safety: Safety,
    /// The manual's "Maximum Response Time".
    pub max_response_time: ResponseTime,
    /// The manual's "Characteristics" line.
    pub characteristics: Characteristics,
    /// What must hold before the command can succeed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preconditions: Vec<Precondition>,
    /// The state the command leaves behind when it succeeds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaves: Option<State>,
    /// The manual's NOTE blocks, verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Ids of errata (in `errata.yaml`) that concern this command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errata: Vec<String>,
    /// Every parameter of the manual's table, in its order (command and response parameters).
    #[serde(default)]
    pub params: Vec<Param>,
    /// Every form of the command.
    pub forms: Vec<Form>,
    /// Cross-parameter rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

/// The manual's "Characteristics" line, as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Characteristics {
    /// The manual's words, verbatim (`-` or `None` when it gives nothing).
    pub text: String,
    /// When a setting takes effect.
    #[serde(default)]
    pub effect: Effect,
    /// Whether the setting survives a reboot.
    #[serde(default)]
    pub saved: Saved,
    /// With `saved: by_param`, the parameter that decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_param: Option<String>,
}

/// When a setting takes effect.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// "Takes effect immediately."
    Immediate,
    /// Takes effect after a reboot.
    AfterReboot,
    /// The manual does not say.
    #[default]
    Unspecified,
}

/// Whether a setting is saved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Saved {
    /// Saved by this command.
    Saved,
    /// "Configuration is not saved."
    NotSaved,
    /// "Configurations are saved automatically."
    SavedAutomatically,
    /// A parameter of the command decides (`save_param`).
    ByParam,
    /// The manual does not say.
    #[default]
    Unspecified,
}

/// A module state named by preconditions and `leaves`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Connected to an access point in station mode.
    WifiStaConnected,
    /// Access-point mode enabled.
    WifiApUp,
    /// BLE initialised (any role).
    BleInitialized,
    /// BLE initialised as a peripheral.
    BlePeripheral,
    /// BLE initialised as a central.
    BleCentral,
    /// A GATT service has been created.
    BleServiceCreated,
    /// A GATT characteristic has been added.
    BleCharacteristicAdded,
    /// Adding the GATT service has been completed.
    BleServiceDone,
    /// BLE advertising is on.
    BleAdvertising,
    /// A BLE connection exists.
    BleConnected,
    /// A socket is open.
    SocketOpen,
    /// A TCP listener is listening.
    SocketListening,
    /// The socket is closed.
    SocketClosed,
    /// An SSL connection is open.
    SslOpen,
    /// The SSL connection is closed.
    SslClosed,
    /// An MQTT network connection is open.
    MqttOpened,
    /// An MQTT client is connected to the broker.
    MqttConnected,
    /// A message the broker sent waits in an MQTT client's buffer.
    MqttMessageBuffered,
    /// A connection to a TCP listener waits to be accepted.
    SocketIncoming,
    /// The MQTT network connection is closed.
    MqttClosed,
    /// A file is open.
    FileOpen,
    /// The file is closed.
    FileClosed,
    /// A file of the name the command gives exists.
    FileExists,
    /// A UDP service ("UDP SERVICE") is open.
    UdpServiceOpen,
    /// The CA certificate, client certificate and key are in files that
    /// SSL context 1 names.
    SslCertificatesLoaded,
    /// The connected BLE peer has a readable characteristic (named by the
    /// command's parameter).
    BlePeerReadable,
    /// The connected BLE peer has a writable characteristic.
    BlePeerWritable,
    /// The connected BLE peer has a characteristic taking writes without
    /// response.
    BlePeerWriteCommand,
    /// The connected BLE peer has a characteristic that notifies.
    BlePeerNotifying,
    /// An HTTP(S) URL is configured.
    HttpUrlSet,
    /// An HTTP(S) response is ready to be read.
    HttpResponseReady,
    /// The port is in transparent transmission mode.
    TransparentMode,
    /// The port is in command mode.
    CommandMode,
}

/// How the conformance runner reaches a state, and leaves it again
/// (`spec/states.yaml`). Lines may name values of the run's environment
/// (`${wifi_ssid}`, `${tcp_echo_host}`) and the object's id (`${id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateRecipe {
    /// The state reached.
    pub state: State,
    /// Only when the case needs these states too (a role: `ble_connected`
    /// as a peripheral differs from `ble_connected` as a central). The
    /// recipe with the most matching `when` states wins.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub when: Vec<State>,
    /// States reached first (each once, whatever else the case needs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<State>,
    /// What the recipe does, in words.
    pub text: String,
    /// The steps that reach the state.
    pub steps: Vec<RecipeStep>,
    /// The steps that leave it (after the case; best effort).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undo: Vec<RecipeStep>,
    /// Objects the environment provides for the precondition's parameter
    /// (a peer's characteristic UUIDs): the first goes on the case's line;
    /// a case about the parameter's length takes the one of that length.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<String>,
}

/// One step of a state recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipeStep {
    /// A command line to send; it must be accepted (`OK`, or the prompt
    /// when `payload` follows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    /// Bytes sent after the `>` prompt (the command's data phase).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// A URC that must follow (the start of the line; `${...}` expanded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The module chooses the object's id and prints it in the answer's
    /// information line (`+QFOPEN: <filehandle>`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub yields_id: bool,
}

/// Something that must hold before a command can succeed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Precondition {
    /// The state that must hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<State>,
    /// A command that must have succeeded before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The parameter that names the object concerned (socket, client, file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Only when the command's parameters are so (`<mode>` is "ap").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// The manual's words.
    pub text: String,
}

/// The manual's "Maximum Response Time", in whatever form it gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ResponseTime {
    /// A fixed limit.
    Fixed {
        /// Milliseconds.
        ms: u64,
        /// The manual's words.
        text: String,
    },
    /// A limit that depends on the situation (QSOFTAP).
    Conditional {
        /// Each situation with its limit.
        cases: Vec<TimeCase>,
        /// The manual's words.
        text: String,
    },
    /// The value of a parameter of the command (QICLOSE `<timeout>`).
    Param {
        /// The parameter (its `unit` and `default` apply).
        param: String,
        /// The manual's words.
        text: String,
    },
    /// Set by configuration (`<pkt_timeout>` × `<retry_times>`).
    Config {
        /// Parameters multiplied together.
        factors: Vec<String>,
        /// The command that configures them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<String>,
        /// The limit with the default configuration, in milliseconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default_ms: Option<u64>,
        /// The manual's words.
        text: String,
    },
    /// Determined by the network, with the manual's figure.
    Network {
        /// Milliseconds.
        ms: u64,
        /// The manual's words.
        text: String,
    },
    /// The network's time plus a parameter's value (QSSLOPEN, QHTTPPOST).
    NetworkPlusParam {
        /// The network part in milliseconds, when the manual gives one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ms: Option<u64>,
        /// The parameter added to it.
        param: String,
        /// The manual's words.
        text: String,
    },
    /// The manual gives no limit (`-`).
    NotGiven {
        /// The manual's words.
        text: String,
    },
}

impl ResponseTime {
    /// The manual's own words for the limit.
    pub fn text(&self) -> &str {
        match self {
            ResponseTime::Fixed { text, .. }
            | ResponseTime::Conditional { text, .. }
            | ResponseTime::Param { text, .. }
            | ResponseTime::Config { text, .. }
            | ResponseTime::Network { text, .. }
            | ResponseTime::NetworkPlusParam { text, .. }
            | ResponseTime::NotGiven { text } => text,
        }
    }
}

/// One case of a conditional time limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeCase {
    /// The situation, in the manual's words.
    pub when_text: String,
    /// Structured form of the situation, when it can be stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// Milliseconds.
    pub ms: u64,
}

/// Kind of a command form.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FormKind {
    /// `AT+X=?`
    Test,
    /// `AT+X?`
    Read,
    /// `AT+X=<…>`
    Write,
    /// `AT+X`
    Execute,
}

/// One form of a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// test, read, write or execute.
    pub kind: FormKind,
    /// The syntax in the manual's notation (see spec/README.md); parsed by the generator.
    pub syntax: String,
    /// The sub-command key (first quoted parameter) for QICFG, QSSLCFG, QMTCFG, QHTTPCFG, QCFG.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcommand: Option<String>,
    /// The manual's own text, when `syntax` had to be normalised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manual_syntax: Option<String>,
    /// When this form applies (e.g. `when <service_type> is "UDP SERVICE"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// The state `condition` describes: it takes the place of the
    /// command's precondition on the same object, so the conformance
    /// runner sets the situation up instead of skipping the form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition_state: Option<State>,
    /// Extra description of this form, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every response variant.
    pub responses: Vec<Response>,
    /// A `>` or `CONNECT` prompt followed by a payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_phase: Option<DataPhase>,
    /// Errata that concern this form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errata: Vec<String>,
}

/// What the module answers in one situation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// Short label of the situation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Structured condition on the command's parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Condition>,
    /// The situation in the manual's words, when no structured condition captures it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Information lines before the final result.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    /// The final result code.
    pub result: FinalResult,
    /// `CME_ERROR`: the `<err>` parameter; `CONNECT_N`: the length parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_param: Option<String>,
    /// What follows the final result: a data block, lines, a second final result
    /// (`CONNECT <n>` then data then `OK`; `OK` then scan results).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_result: Option<AfterResult>,
    /// The mode the final result switches the port to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enters: Option<Mode>,
    /// The URC that finishes the command after the final result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Completion>,
}

/// What follows a first final result, in this order: data, lines, a second final result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AfterResult {
    /// A block of raw bytes (a file's content, an HTTP body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataBlock>,
    /// Information lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<Line>,
    /// The second final result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<FinalResult>,
}

/// A final result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FinalResult {
    /// `OK`
    Ok,
    /// `ERROR`
    Error,
    /// `+CME ERROR: <err>`
    CmeError,
    /// `SEND OK`
    SendOk,
    /// `SEND FAIL`
    SendFail,
    /// `CONNECT`
    Connect,
    /// `CONNECT <n>`
    ConnectN,
    /// `NO CARRIER`
    NoCarrier,
    /// No final result code (the response ends otherwise).
    None,
}

/// A port mode entered by a final result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Transparent transmission: left by `+++`, lost with `NO CARRIER`.
    Transparent,
    /// Data input of a data phase (QFWRITE, QHTTPPOST).
    DataInput,
}

/// An information line: a template, or a template with details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Line {
    /// Just the template.
    Template(String),
    /// The template with details.
    Detailed(DetailedLine),
}

/// An information line with details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetailedLine {
    /// The line in the manual's notation.
    pub template: String,
    /// The line may be absent (`[line]` in the manual).
    #[serde(default)]
    pub optional: bool,
    /// The line may repeat (`[...]` in the manual).
    #[serde(default)]
    pub repeated: bool,
    /// A data block follows the line after CR LF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataBlock>,
}

impl Line {
    /// The line's template.
    pub fn template(&self) -> &str {
        match self {
            Line::Template(t) => t,
            Line::Detailed(d) => &d.template,
        }
    }

    /// The data block that follows the line, if any.
    pub fn data(&self) -> Option<&DataBlock> {
        match self {
            Line::Template(_) => None,
            Line::Detailed(d) => d.data.as_ref(),
        }
    }

    /// Whether the line may be absent.
    pub fn optional(&self) -> bool {
        matches!(self, Line::Detailed(d) if d.optional)
    }

    /// Whether the line may repeat.
    pub fn repeated(&self) -> bool {
        matches!(self, Line::Detailed(d) if d.repeated)
    }
}

/// A block of raw bytes in the module's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataBlock {
    /// The parameter that gives its byte count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<String>,
    /// What ends it when no length is given (e.g. `OK`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The largest block in bytes, when the manual gives one (an announced
    /// length beyond it is an error, not a block to wait for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// The command parameter that asks for at most this many bytes
    /// (`AT+QIRD=<connectID>,<read_length>`); its range's maximum applies
    /// when the command leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length_param: Option<String>,
    /// What it holds, in the manual's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The URC that finishes a command after its final result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    /// The URC's name (`+QIOPEN`).
    pub urc: String,
    /// The URC's discriminator (`dnsgip` for `+QIURC: "dnsgip"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discriminator: Option<String>,
    /// Time limit for the URC; the command's own when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<ResponseTime>,
    /// The command's parameters the URC repeats (`connectID`, `client_idx`,
    /// `msgID`, by the same name in the URC): a URC completes the command
    /// only when it carries the same values, so the completion of socket 1
    /// is never taken for socket 0's.
    #[serde(default, rename = "match", skip_serializing_if = "Vec::is_empty")]
    pub match_params: Vec<String>,
}

/// A `>` or `CONNECT` prompt followed by a payload from the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataPhase {
    /// What the module prints to ask for the payload.
    pub prompt: Prompt,
    /// The parameter giving the payload's length, when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<String>,
    /// Ends a variable-length payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminator: Option<ControlByte>,
    /// Cancels the payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<ControlByte>,
    /// Largest payload in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Time limit for the input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<ResponseTime>,
    /// The manual's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The prompt of a data phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Prompt {
    /// `>` (no line ending).
    #[serde(rename = ">")]
    Greater,
    /// `CONNECT`.
    #[serde(rename = "CONNECT")]
    Connect,
}

/// A control byte of a data phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ControlByte {
    /// Ctrl+Z, 0x1A.
    CtrlZ,
    /// Esc, 0x1B.
    Esc,
}

impl ControlByte {
    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            ControlByte::CtrlZ => 0x1A,
            ControlByte::Esc => 0x1B,
        }
    }
}

/// Type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// Decimal integer.
    Integer,
    /// Integer written in hex digits.
    HexInteger,
    /// String.
    String,
    /// String of hex digits.
    HexString,
    /// Dotted-decimal IPv4 address.
    Ipv4,
    /// IP address or domain name.
    Host,
    /// MAC address (12 hex digits).
    Mac,
    /// BLE device address (12 hex digits).
    BleAddress,
    /// UUID of 4 or 32 hex digits.
    Uuid,
    /// Time string (`YY/MM/DD,hh:mm:ss±zz`).
    Time,
    /// `name:value` or `username:password` string.
    KeyValue,
    /// File name in the module's file system.
    Path,
    /// URL.
    Url,
    /// Raw payload bytes.
    Data,
    /// Result code from a result table (`table`).
    ResultCode,
}

impl ParamType {
    /// Whether values of this type are numbers.
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            ParamType::Integer | ParamType::HexInteger | ParamType::ResultCode
        )
    }

    /// Whether the manual writes this type in double quotes unless it says otherwise.
    pub fn quoted_by_default(self) -> bool {
        !self.is_numeric() && self != ParamType::Data
    }
}

/// A scalar value in the catalogue: an integer or a string.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(untagged)]
pub enum Scalar {
    /// An integer.
    Int(i64),
    /// A string (hex integers are written as strings: `"0x0035"`, `"FF"`).
    Str(String),
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Str(s) => write!(f, "{s}"),
        }
    }
}

/// An inclusive range of values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Range {
    /// Smallest value.
    pub min: Scalar,
    /// Largest value.
    pub max: Scalar,
}

/// An inclusive range that applies in one situation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConditionalRange {
    /// The situation, in the manual's words.
    pub when_text: String,
    /// Smallest value.
    pub min: Scalar,
    /// Largest value.
    pub max: Scalar,
}

/// Inclusive byte-length limits of a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LengthRange {
    /// Fewest bytes.
    #[serde(default)]
    pub min: u64,
    /// Most bytes.
    pub max: u64,
}

/// One value of an enumeration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnumValue {
    /// The value on the wire.
    pub value: Scalar,
    /// A short snake_case name for the value, chosen from its meaning
    /// (`peripheral`, `at_most_once`, `bad_credentials`); the generated
    /// variant is its CamelCase form. Unique within the enumeration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its meaning, in the manual's words.
    pub meaning: String,
    /// A label the manual prints with it (`"Initial"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// What to do about it (result codes such as QMTSTAT `<err_code>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
}

/// Which result-code table a `result_code` parameter refers to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TableId {
    /// TCP/UDP/SSL result codes (550–570).
    Tcpip,
    /// HTTP(S) result codes (701–724).
    Http,
}

/// A parameter of a command or URC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// The name as the manual spells it, without angle brackets.
    pub name: String,
    /// A snake_case name for the parameter's enumeration type, where the one
    /// derived from `name` would collide with (or differ only by case from)
    /// another type of its module, or would not explain itself
    /// (`recv_data_format`, `security_level`). Only with `values`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// Other spellings the manual uses for it in templates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The value type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// The manual's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Inclusive range of an integer (hex integers: strings such as `"0x00"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<Range>,
    /// Ranges that apply in particular situations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges_when: Vec<ConditionalRange>,
    /// Byte-length limits of a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<LengthRange>,
    /// The only byte lengths allowed (UUIDs: 4 or 32).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lengths: Vec<u64>,
    /// Enumeration: wire values and meanings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<EnumValue>,
    /// Prose for values outside `values` ("Other value: result code").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_values: Option<String>,
    /// Reserved value ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reserved: Vec<Range>,
    /// The default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Scalar>,
    /// The unit (`ms`, `s`, `byte`, `bps`, `timeslot_0.625ms`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Whether the value is written in double quotes (default: strings yes, numbers no).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted: Option<bool>,
    /// Hex integers: whether the wire form carries `0x`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<bool>,
    /// The value legitimately differs between runs or modules (an
    /// assigned local port, a DHCP address, a signal strength): `diff` and
    /// `--compare-with` do not compare it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub varies: bool,
    /// Keys and passwords: masked in logs and reports.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// For a `data` value printed inside a line (the last field): the
    /// integer parameter before it on the same line that gives its byte
    /// count (`+QMTRECV: …,<payload_length>,<payload>`). The value is that
    /// many bytes whatever they are (CR, LF, quotes, `OK`, binary), not a
    /// string ended by a quote or the line's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length_from: Option<String>,
    /// For `result_code`: the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<TableId>,
    /// Values seen in the manual's examples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Scalar>,
    /// A valid value for the conformance suite where the manual gives no
    /// example and the range alone does not make a sensible one (a subnet
    /// mask, a gateway in the subnet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<Scalar>,
    /// Defined by the manual but used in no template (must cite an erratum).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unused: bool,
    /// Errata that decided something about this parameter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errata: Vec<String>,
}

impl Param {
    /// Whether the value is written in double quotes on the wire.
    pub fn is_quoted(&self) -> bool {
        self.quoted.unwrap_or_else(|| self.ty.quoted_by_default())
    }
}

/// A condition on a command's parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// The parameter tested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The parameter equals this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<Scalar>,
    /// The parameter takes one of these values.
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<Scalar>>,
    /// The parameter is present (true) or absent (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    /// Every parameter from this one on is omitted (query by key alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted: Option<String>,
    /// All of these hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<Condition>>,
}

/// Comparison operator of a `compare` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CompareOp {
    /// Less than.
    #[serde(rename = "<")]
    Lt,
    /// Less than or equal.
    #[serde(rename = "<=")]
    Le,
    /// Greater than.
    #[serde(rename = ">")]
    Gt,
    /// Greater than or equal.
    #[serde(rename = ">=")]
    Ge,
    /// Equal.
    #[serde(rename = "==")]
    Eq,
    /// Not equal.
    #[serde(rename = "!=")]
    Ne,
}

/// A cross-parameter rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// `left op right`, each side the product of its parameters.
    Compare {
        /// Parameters multiplied on the left.
        left: Vec<String>,
        /// The operator.
        op: CompareOp,
        /// Parameters multiplied on the right.
        right: Vec<String>,
        /// The manual's words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// These parameters must be present when `when` holds.
    RequiredIf {
        /// The parameters.
        params: Vec<String>,
        /// The condition.
        when: Condition,
        /// The manual's words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// The parameter may not take these values when `when` holds.
    ForbiddenValuesIf {
        /// The parameter.
        param: String,
        /// The forbidden values.
        values: Vec<Scalar>,
        /// The condition.
        when: Condition,
        /// The manual's words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// The parameter must take this value when `when` holds (QMTPUB
    /// `<msgID>` is 0 when `<qos>` is 0).
    ValueIf {
        /// The parameter.
        param: String,
        /// The value it must take.
        value: Scalar,
        /// The condition.
        when: Condition,
        /// The manual's words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// Exactly one of these parameters is given (alternatives in one position).
    ExactlyOne {
        /// The alternatives.
        params: Vec<String>,
        /// The manual's words.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// A payload's length is limited by runtime state (e.g. `<MTU_value>`-3).
    MaxLengthFrom {
        /// The limited parameter.
        param: String,
        /// The manual's words.
        text: String,
    },
}

impl Rule {
    /// Every parameter the rule names.
    pub fn params(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        match self {
            Rule::Compare { left, right, .. } => {
                out.extend(left.iter().chain(right).map(String::as_str))
            }
            Rule::RequiredIf { params, when, .. } => {
                out.extend(params.iter().map(String::as_str));
                out.extend(when.params());
            }
            Rule::ForbiddenValuesIf { param, when, .. } | Rule::ValueIf { param, when, .. } => {
                out.push(param);
                out.extend(when.params());
            }
            Rule::ExactlyOne { params, .. } => out.extend(params.iter().map(String::as_str)),
            Rule::MaxLengthFrom { param, .. } => out.push(param),
        }
        out
    }
}

impl Condition {
    /// Every parameter the condition names.
    pub fn params(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        out.extend(self.param.as_deref());
        out.extend(self.omitted.as_deref());
        for c in self.all.iter().flatten() {
            out.extend(c.params());
        }
        out
    }
}

/// Where a URC is described.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UrcSource {
    /// In the manual's "Description of URCs" chapter.
    UrcChapter,
    /// Only inside a command's description.
    Command,
}

/// One URC variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Urc {
    /// The prefix (`+QIURC`).
    pub name: String,
    /// The function group whose commands provoke it (the runtime compiles
    /// it with that group's cargo feature); none: always compiled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Group>,
    /// The quoted literal that tells URCs of one prefix apart (`recv`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discriminator: Option<String>,
    /// Label that tells variants of the same name and discriminator apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The line in the manual's notation.
    pub syntax: String,
    /// The manual's description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A data block that follows the line after CR LF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataBlock>,
    /// Where the manual describes it.
    pub source: UrcSource,
    /// Commands this URC finishes (deferred completion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub completes: Vec<String>,
    /// When several URCs complete a command together (QPING's replies then
    /// its final line; QIDNSGIP's result then its addresses): this
    /// variant's place in the series.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<Series>,
    /// The URC's parameters.
    #[serde(default)]
    pub params: Vec<Param>,
    /// The manual's notes, verbatim.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Errata that concern this URC.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errata: Vec<String>,
}

/// A URC variant's place in a series of URCs that completes a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Series {
    /// What this variant does in the series.
    pub role: SeriesRole,
    /// `head`: the parameter giving how many `part` lines follow it (the
    /// series ends with the last of them, or at once when it is 0 or
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<String>,
    /// A `final` URC is a `part` instead when this holds for its own fields
    /// (`+QMTPUB: …,<result>` with `<result>` 1 reports a retransmission,
    /// and the command goes on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part_when: Option<Condition>,
}

/// What a URC variant does in a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeriesRole {
    /// Starts the series and says how many parts follow (`count`).
    Head,
    /// One line of the series before its end.
    Part,
    /// Ends the series.
    Final,
}

/// One result-code table of the manual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultTable {
    /// Which table.
    pub table: TableId,
    /// The manual's title.
    pub title: String,
    /// Every row.
    pub codes: Vec<ResultCode>,
}

/// One row of a result-code table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultCode {
    /// The code.
    pub code: i64,
    /// A short snake_case name for the code, chosen from its description
    /// (`socket_connect_failed`); the generated variant is its CamelCase
    /// form. Unique within the table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The manual's description.
    pub description: String,
}

/// One of the manual's examples as ordered steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// snake_case identifier.
    pub name: String,
    /// The manual's heading.
    pub title: String,
    /// What the example shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Values of `${name}` placeholders as the manual gives them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub placeholders: BTreeMap<String, String>,
    /// The steps, in the manual's order.
    pub steps: Vec<Step>,
    /// Errata that concern this scenario.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errata: Vec<String>,
    /// Why the example cannot succeed as printed on a conforming module
    /// (citing its erratum); a conformance run reports it as skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<String>,
    /// The states the example starts from (set up by the conformance
    /// runner with the recipes of `spec/states.yaml`; the manual's examples
    /// assume a module on the network). None: a freshly started module.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<State>,
    /// Where the scenario comes from: one of the manual's examples (the
    /// default), an exchange composed from the catalogue for commands no
    /// example of the manual sends, or a provocation written to make a
    /// module show a result code or URC under a condition of its
    /// surroundings (`spec/provocations.yaml`).
    #[serde(default, skip_serializing_if = "ScenarioSource::is_manual")]
    pub source: ScenarioSource,
}

/// Where a scenario comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioSource {
    /// One of the manual's examples, step by step.
    #[default]
    Manual,
    /// Written to provoke a result code or URC through a condition of the
    /// module's surroundings (an unreachable server, a broker that refuses
    /// a connection, ...); its placeholders name the values the
    /// surroundings provide.
    Provocation,
    /// Composed from the catalogue's command descriptions for a command the
    /// manual shows in no example (each command's documentation shows an
    /// exchange); its placeholders name the values the surroundings provide,
    /// as a provocation's do.
    Catalogue,
}

impl ScenarioSource {
    /// Whether this is the default, [`ScenarioSource::Manual`].
    pub fn is_manual(&self) -> bool {
        *self == ScenarioSource::Manual
    }
}

/// One step of a scenario: exactly one action, or only a note.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Send a command line (without CR LF).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send: Option<String>,
    /// Expect a response line or final result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
    /// Expect a URC line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_urc: Option<String>,
    /// Expect a data-phase prompt (`>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_prompt: Option<String>,
    /// Send a payload after a prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_data: Option<String>,
    /// How the payload ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DataEnd>,
    /// Expect raw bytes from the module.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect_data: Option<String>,
    /// The manual's comment, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// How a scenario's payload ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataEnd {
    /// Ctrl+Z sends it.
    CtrlZ,
    /// Esc cancels it.
    Esc,
    /// Its length was given in the command.
    None,
}

/// Kind of an erratum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErratumKind {
    /// A value list renumbered by the conversion ("1. … 2. …" for 0/1).
    EnumOffset,
    /// `0×` (multiplication sign) for `0x`.
    MultiplicationSign,
    /// Different ranges or defaults for the same parameter.
    ConflictingRange,
    /// A parameter name lost its angle brackets or vanished.
    LostBrackets,
    /// A parameter spelled differently in different places.
    NameMismatch,
    /// A form the manual never prints.
    MissingSyntax,
    /// A parameter used but never defined.
    UndefinedParam,
    /// A parameter defined but never used.
    UnusedParam,
    /// A wrong type statement.
    WrongType,
    /// The manual contradicts itself.
    Contradiction,
    /// Anything else.
    Other,
}

/// A place where the manual is damaged or contradicts itself, and what the catalogue decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Erratum {
    /// Identifier (`TCP-3`).
    pub id: String,
    /// Kind.
    pub kind: ErratumKind,
    /// The command concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The URC concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urc: Option<String>,
    /// The scenario concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The parameter concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The manual's damaged or contradictory text.
    pub manual_text: String,
    /// What the catalogue decided.
    pub decision: String,
    /// Where in the manual the decision comes from.
    pub evidence: String,
    /// False when the manual gives no evidence either way.
    pub evidence_in_manual: bool,
}
