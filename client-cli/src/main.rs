//! `meldpunt`: the reporter's and the integrity office's command-line tool.
//!
//! Reporters: `report`, `check`, `follow-up`. Offices: `keygen`, `directory …`, `inbox …`.
//! Everything is sealed and opened on this machine; the relay sees only ciphertext.
//!
//! This program must never take a receipt code, token, passphrase or key from argv or the
//! environment, and never write an opened message to disk except where the user asks
//! (`--save-attachments`, `inbox export`).

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};
use meldpunt_crypto::Role;

use meldpunt_cli::error::{CliError, Result};
use meldpunt_cli::{inbox, office, paths, relay, reporter};

/// Meldpunt: report integrity breaches anonymously, end-to-end encrypted.
#[derive(Debug, Parser)]
#[command(name = "meldpunt", version, about, after_help = EXIT_CODES)]
struct Arguments {
    #[command(subcommand)]
    command: Command,
    /// Machine-readable JSON output (documented in docs/cli.md).
    #[arg(long, global = true)]
    json: bool,
}

const EXIT_CODES: &str = "Exit codes: 0 success, 1 local failure, 2 usage or bad input (such as a mistyped receipt code), \
3 relay unreachable, 4 refused by the relay, 5 verification failure (directory or sealed object).";

#[derive(Debug, Args)]
struct RelayOptions {
    /// The relay's address, e.g. http://example.onion or https://meldpunt.example.nl.
    #[arg(long, env = "MELDPUNT_RELAY")]
    relay: Option<String>,
    /// The directory key to pin (mpdk1…), as published by the organisation.
    #[arg(long, env = "MELDPUNT_DIRECTORY_KEY")]
    directory_key: Option<String>,
    /// Send everything through this proxy, e.g. socks5h://127.0.0.1:9050 for Tor.
    #[arg(long, env = "MELDPUNT_PROXY")]
    proxy: Option<String>,
    /// Also trust the certificate authorities in this PEM file (a relay with a private or
    /// self-signed certificate).
    #[arg(long, env = "MELDPUNT_CA_FILE")]
    ca_file: Option<PathBuf>,
}

impl RelayOptions {
    fn relay(&self, config: &Config) -> Result<relay::Relay> {
        let url = self
            .relay
            .clone()
            .or_else(|| config.relay.clone())
            .ok_or_else(|| {
                CliError::Usage(
                    "give the relay's address with --relay URL (or MELDPUNT_RELAY)".into(),
                )
            })?;
        relay::Relay::trusting(
            &url,
            self.proxy.as_deref().or(config.proxy.as_deref()),
            self.ca_file.as_deref().or(config.ca_file.as_deref()),
        )
        .map_err(CliError::from)
    }

    fn directory_key(&self, config: &Config) -> Option<String> {
        self.directory_key
            .clone()
            .or_else(|| config.directory_key.clone())
    }

    fn reporter(&self, json: bool, config: &Config) -> Result<reporter::Common> {
        Ok(reporter::Common {
            relay: self.relay(config)?,
            directory_key: self.directory_key(config),
            json,
        })
    }
}

/// `config.json` in the configuration folder: defaults for the options above.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    relay: Option<String>,
    identity: Option<PathBuf>,
    directory_key: Option<String>,
    proxy: Option<String>,
    ca_file: Option<PathBuf>,
    /// Months after closing at which the office checks in with the reporter (aftercare).
    aftercare_months: Option<u32>,
    /// Months after closing a case's content is kept (its retention), unless set otherwise.
    retention_months: Option<u32>,
}

impl Config {
    /// The configuration file, if there is one; a file that is there but not a
    /// configuration is refused with its path (never silently passed over).
    fn load() -> Result<Config> {
        let path = paths::config_dir().join("config.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|error| {
                CliError::Usage(format!(
                    "{} is not a Meldpunt configuration ({error}); see docs/cli.md",
                    path.display()
                ))
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(error) => Err(CliError::file(&path, error)),
        }
    }
}

#[derive(Debug, Args)]
struct InboxOptions {
    #[command(flatten)]
    relay: RelayOptions,
    /// The office's age identity file.
    #[arg(long, env = "MELDPUNT_IDENTITY")]
    identity: Option<PathBuf>,
    /// The local encrypted case store (default: a per-user data folder).
    #[arg(long)]
    store: Option<PathBuf>,
}

/// What `report` and `ask` take to open a conversation.
#[derive(Debug, Args)]
struct OpeningOptions {
    #[command(flatten)]
    relay: RelayOptions,
    /// The organisation's id in the directory.
    #[arg(long)]
    to: String,
    /// Recipient role or id (integrity-office, internal-confidential-adviser,
    /// external-confidential-adviser, process-guide); repeat to choose several. Default:
    /// the integrity office for a report, every confidential adviser for `ask` (which
    /// takes advisers only).
    #[arg(long)]
    role: Vec<String>,
    /// A file to attach; repeat for several. Photos lose their metadata first.
    #[arg(long)]
    attach: Vec<PathBuf>,
    /// Read the text from this file, or - for standard input.
    #[arg(long)]
    message_file: Option<PathBuf>,
    /// Send images as they are, metadata included.
    #[arg(long)]
    keep_metadata: bool,
    /// An answer to one of the organisation's questions (a structured report), as
    /// QUESTION=ANSWER; repeat for several. Other users of this computer can see arguments:
    /// prefer --answers-file, or answer when asked. Unanswered questions are asked on a
    /// terminal.
    #[arg(long, value_name = "QUESTION=ANSWER")]
    answer: Vec<String>,
    /// Read answers from this file, one QUESTION=ANSWER per line.
    #[arg(long)]
    answers_file: Option<PathBuf>,
}

impl OpeningOptions {
    /// Opens the conversation: a report (carrying the consultation whose code `carry`
    /// reads, when given) or a consultation.
    fn send(
        &self,
        conversation: meldpunt_crypto::Conversation,
        carry_consultation: Option<Option<&std::path::Path>>,
        json: bool,
        config: &Config,
    ) -> Result<()> {
        reporter::report(
            &self.relay.reporter(json, config)?,
            &reporter::Opening {
                conversation,
                organisation: &self.to,
                roles: &self.role,
                files: &self.attach,
                message_file: self.message_file.as_deref(),
                keep_metadata: self.keep_metadata,
                carry_consultation,
                answers: &self.answer,
                answers_file: self.answers_file.as_deref(),
            },
        )
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Send a report: sealed here, to the organisation's recipients you choose.
    Report {
        #[command(flatten)]
        opening: OpeningOptions,
        /// Take an earlier consultation along (`meldpunt ask`): asks for its receipt code,
        /// reads it here and carries its messages into this report. Leave it out and the
        /// report says nothing of it; the advisers are never told either way.
        #[arg(long)]
        carry_consultation: bool,
        /// Read the consultation's receipt code from this file instead of a hidden prompt.
        #[arg(long, requires = "carry_consultation")]
        consultation_receipt_file: Option<PathBuf>,
    },
    /// Ask a confidential adviser first: a consultation (a listening ear, directions), not a
    /// report. Sealed here to the advisers you choose only; no deadlines run. Answered with
    /// a receipt code like a report; `check` and `follow-up` work the same.
    Ask {
        #[command(flatten)]
        opening: OpeningOptions,
    },
    /// Read the replies to your report (asks for your receipt code).
    Check {
        #[command(flatten)]
        relay: RelayOptions,
        /// Read the receipt code from this file instead of a hidden prompt.
        #[arg(long)]
        receipt_file: Option<PathBuf>,
        /// Save attachments sent by the office into this folder.
        #[arg(long)]
        save_attachments: Option<PathBuf>,
    },
    /// Send more information about your report (asks for your receipt code).
    FollowUp {
        #[command(flatten)]
        relay: RelayOptions,
        /// Read the receipt code from this file instead of a hidden prompt.
        #[arg(long)]
        receipt_file: Option<PathBuf>,
        /// Read the message from this file, or - for standard input.
        #[arg(long)]
        message_file: Option<PathBuf>,
        /// A file to attach; repeat for several.
        #[arg(long)]
        attach: Vec<PathBuf>,
        /// Send images as they are, metadata included.
        #[arg(long)]
        keep_metadata: bool,
    },
    /// Evaluate how your report was handled, once the office closed it (optional; asks for
    /// your receipt code, then the organisation's evaluation questions).
    Evaluate {
        #[command(flatten)]
        relay: RelayOptions,
        /// Read the receipt code from this file instead of a hidden prompt.
        #[arg(long)]
        receipt_file: Option<PathBuf>,
        /// An answer, as QUESTION=ANSWER; repeat for several. Other users of this computer
        /// can see arguments: prefer --answers-file, or answer when asked. Unanswered
        /// questions are asked on a terminal.
        #[arg(long, value_name = "QUESTION=ANSWER")]
        answer: Vec<String>,
        /// Read answers from this file, one QUESTION=ANSWER per line.
        #[arg(long)]
        answers_file: Option<PathBuf>,
        /// Anything else you want to say, from this file or - for standard input.
        #[arg(long)]
        message_file: Option<PathBuf>,
    },
    /// Confirm or correct the office's record of your oral report (a telephone call or a
    /// meeting it wrote down). Asks for your receipt code.
    Confirm {
        #[command(flatten)]
        relay: RelayOptions,
        /// Read the receipt code from this file instead of a hidden prompt.
        #[arg(long)]
        receipt_file: Option<PathBuf>,
        /// The record is right.
        #[arg(
            long,
            required_unless_present = "corrections_file",
            conflicts_with = "corrections_file"
        )]
        agree: bool,
        /// What is wrong in the record and how it should read, from this file or - for
        /// standard input.
        #[arg(long)]
        corrections_file: Option<PathBuf>,
    },
    /// Share your name or contact details with one recipient of your report only (say the
    /// external confidential adviser): sealed to their keys alone; the other recipients see
    /// that you shared it with them, never what. Asks for your receipt code.
    ShareIdentity {
        #[command(flatten)]
        relay: RelayOptions,
        /// Read the receipt code from this file instead of a hidden prompt.
        #[arg(long)]
        receipt_file: Option<PathBuf>,
        /// The recipient (its id, e.g. external-confidential-adviser) to share it with.
        #[arg(long)]
        with: String,
        /// Read your name and contact details from this file, or - for standard input
        /// (never from the command line, which other users of the machine can see).
        #[arg(long)]
        identity_file: Option<PathBuf>,
        /// A message to go with it (default: a sentence saying with whom you shared it).
        #[arg(long)]
        message_file: Option<PathBuf>,
    },
    /// Create an age identity for an integrity office and print its public key.
    Keygen {
        /// Where to write the identity; refused if the file exists.
        #[arg(long)]
        out: PathBuf,
        /// Protect the file with a passphrase (asked for, never an argument).
        #[arg(long)]
        passphrase: bool,
        /// A hybrid post-quantum identity (age's mlkem768x25519, age1pq1…): what is sealed
        /// to it stays closed for a future quantum computer. Opens with age 1.3 or later.
        #[arg(long)]
        pq: bool,
    },
    /// Build and sign the recipient directory the relay serves.
    #[command(subcommand)]
    Directory(DirectoryCommand),
    /// The integrity office's inbox.
    #[command(subcommand)]
    Inbox(InboxCommand),
    /// The integrity office's app: cases, threads, replies and deadlines in your browser,
    /// served by this process on this computer only (decrypted here, nowhere else).
    Office {
        #[command(flatten)]
        options: InboxOptions,
        /// The loopback address and port to listen on (port 0: a free one).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
        /// Only print the address; do not open a browser.
        #[arg(long)]
        no_open: bool,
        /// Minutes between syncs with the relay in the background (0: only when asked).
        #[arg(long, default_value_t = 5)]
        sync_minutes: u64,
        /// Minutes without use after which the app locks and asks for the passphrase
        /// again (0: never).
        #[arg(long, default_value_t = 15)]
        idle_minutes: u64,
    },
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff).
    Man,
}

/// The draft alone, for the commands that change it without signing (their `--signing-key`
/// is a recipient's office key, never the directory's signing key).
#[derive(Debug, Args)]
struct DraftFile {
    /// The unsigned draft.
    #[arg(long, default_value = "directory.json")]
    file: PathBuf,
}

/// Which recipient of the draft a command changes.
#[derive(Debug, Args)]
struct ChosenRecipient {
    #[command(flatten)]
    files: DraftFile,
    /// Organisation id.
    #[arg(long)]
    organisation: String,
    /// Recipient id.
    #[arg(long)]
    recipient: String,
}

/// What `directory questions` and `directory channels` set, and from where.
#[derive(Debug, Args)]
struct OrganisationPartFile {
    #[command(flatten)]
    files: DraftFile,
    /// Organisation id.
    #[arg(long)]
    organisation: String,
    /// The JSON file (an array).
    #[arg(long, required_unless_present = "clear")]
    from: Option<PathBuf>,
    /// Remove them.
    #[arg(long, conflicts_with = "from")]
    clear: bool,
}

impl OrganisationPartFile {
    fn set(&self, part: office::OrganisationPart) -> Result<()> {
        office::set_organisation_part(
            &self.files.file,
            &self.organisation,
            part,
            self.from.as_deref(),
        )
    }
}

/// One member's keys for `add-member`.
#[derive(Debug, Args)]
struct MemberKeys {
    #[command(flatten)]
    chosen: ChosenRecipient,
    /// The member's age public key (age1…).
    #[arg(long, required = true)]
    key: Vec<String>,
    /// The member's office key (mpok1…).
    #[arg(long, required = true)]
    signing_key: Vec<String>,
}

/// The keys `retire-member` takes out.
#[derive(Debug, Args)]
struct RetiredKeys {
    #[command(flatten)]
    chosen: ChosenRecipient,
    /// The member's age public key (age1…): nothing new is sealed to it.
    #[arg(long, required = true)]
    key: Vec<String>,
    /// Also their office key (mpok1…): their earlier replies then show as not verified.
    /// Leave it listed unless their signature must no longer count.
    #[arg(long)]
    signing_key: Vec<String>,
}

#[derive(Debug, Args)]
struct DirectoryFiles {
    /// The unsigned draft.
    #[arg(long, default_value = "directory.json")]
    file: PathBuf,
    /// The signing key.
    #[arg(long, default_value = "directory.key")]
    signing_key: PathBuf,
}

#[derive(Debug, Subcommand)]
enum DirectoryCommand {
    /// Create a signing key and an empty draft; prints the directory key to publish.
    Init {
        #[command(flatten)]
        files: DirectoryFiles,
    },
    /// Add a new recipient (a role, with its first members' keys) to the draft.
    AddRecipient {
        #[command(flatten)]
        files: DraftFile,
        /// Organisation id (lower-case letters, digits, dashes).
        #[arg(long)]
        organisation: String,
        /// Organisation name in Dutch (for a new organisation).
        #[arg(long)]
        organisation_name_nl: Option<String>,
        /// Organisation name in English (for a new organisation).
        #[arg(long)]
        organisation_name_en: Option<String>,
        /// Recipient id.
        #[arg(long)]
        recipient: String,
        /// Role: integrity-office, internal-confidential-adviser, external-confidential-adviser, process-guide.
        #[arg(long)]
        role: String,
        /// Name in Dutch.
        #[arg(long)]
        name_nl: String,
        /// Name in English.
        #[arg(long)]
        name_en: String,
        /// An age public key (age1…); repeat for several people.
        #[arg(long, required = true)]
        key: Vec<String>,
        /// An office key (mpok1…, printed by keygen) each person signs replies with; repeat
        /// for several people.
        #[arg(long, required = true)]
        signing_key: Vec<String>,
    },
    /// Add a member (their age key and office key, from meldpunt keygen) to a recipient.
    AddMember {
        #[command(flatten)]
        member: MemberKeys,
    },
    /// Add an offline recovery key (keep its identity on paper or a hardware token) to a
    /// recipient: everything for the recipient is sealed to it too, so that losing every
    /// member's laptop loses nothing. It reads; having no office key, it never answers.
    AddRecoveryKey {
        #[command(flatten)]
        chosen: ChosenRecipient,
        /// The recovery key's age public key (age1pq1…, from meldpunt keygen --pq).
        #[arg(long)]
        key: String,
    },
    /// Retire a member's keys from a recipient: nothing new is sealed to them.
    RetireMember {
        #[command(flatten)]
        member: RetiredKeys,
    },
    /// Change a recipient's names or role.
    ChangeRecipient {
        #[command(flatten)]
        chosen: ChosenRecipient,
        /// The new role.
        #[arg(long)]
        role: Option<String>,
        /// The new Dutch name.
        #[arg(long)]
        name_nl: Option<String>,
        /// The new English name.
        #[arg(long)]
        name_en: Option<String>,
    },
    /// Set an organisation's questionnaire (a structured report): a JSON array of questions,
    /// each {"id", "label": {"nl", "en"}, "kind": choice|multiple-choice|date|period|text|yes-no,
    /// "options": [{"id", "label"}] for the choice kinds, "required": true|false}.
    Questions {
        #[command(flatten)]
        part: OrganisationPartFile,
    },
    /// Set where else a reporter can go (the Huis voor Klokkenluiders, competent
    /// authorities), shown on the web form's start page: a JSON array of
    /// {"name": {"nl", "en"}, "purpose": {"nl", "en"}, "contact"}.
    Channels {
        #[command(flatten)]
        part: OrganisationPartFile,
    },
    /// Remove a recipient from the draft.
    RemoveRecipient {
        #[command(flatten)]
        chosen: ChosenRecipient,
    },
    /// Sign the draft: version + 1, valid for --valid-days.
    Sign {
        #[command(flatten)]
        files: DirectoryFiles,
        /// The signed file to write.
        #[arg(long, default_value = "directory.signed.json")]
        out: PathBuf,
        /// Days the signed directory stays valid (1 to 400; above 180 is warned about).
        #[arg(long, default_value_t = 180)]
        valid_days: i64,
    },
    /// What changed when: every version of the relay's directory, from the first it kept,
    /// each checked to continue the one before (keys added and retired, recipients added,
    /// renamed and removed).
    History {
        #[command(flatten)]
        relay: RelayOptions,
    },
    /// Show a signed directory (verified with --directory-key) or a draft.
    Show {
        /// The file.
        #[arg(default_value = "directory.signed.json")]
        file: PathBuf,
        /// Verify against this directory key.
        #[arg(long)]
        directory_key: Option<String>,
    },
}

/// How an oral report was made.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum IntakeChannel {
    /// By telephone.
    Telephone,
    /// In a meeting.
    Meeting,
}

#[derive(Debug, Subcommand)]
enum InboxCommand {
    /// Fetch and open everything new for the organisation.
    Sync {
        #[command(flatten)]
        options: InboxOptions,
    },
    /// One line per case, with deadlines; overdue ones marked.
    List {
        #[command(flatten)]
        options: InboxOptions,
        /// Only cases with an overdue deadline.
        #[arg(long)]
        overdue: bool,
    },
    /// The register of reports (EU Directive 2019/1937, art. 18): one line per case with
    /// its dates, status, deadlines met or missed and labels — never its text or the
    /// reporter's identity. Computed here, from the local store.
    Register {
        #[command(flatten)]
        options: InboxOptions,
        /// As CSV (formulas defused) instead of a table.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
    },
    /// Monitoring figures of the reports received in a period: per month and label, the
    /// share acknowledged and fed back in time, median times, open reports by age. Counts
    /// under 5 show as "fewer than 5". Computed here, from the local store.
    Stats {
        #[command(flatten)]
        options: InboxOptions,
        /// As CSV instead of text.
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        /// The first day of the period (YYYY-MM-DD, received on or after).
        #[arg(long)]
        from: Option<String>,
        /// The last day of the period (YYYY-MM-DD, received on or before).
        #[arg(long)]
        to: Option<String>,
    },
    /// Keep a case until another day than its default retention (retention_months after
    /// closing), for a reason (read from a file or standard input, kept in the store).
    Retention {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// The new retention date (YYYY-MM-DD).
        #[arg(long)]
        until: String,
        /// Read the reason from this file, or - for standard input.
        #[arg(long)]
        reason_file: Option<PathBuf>,
    },
    /// Put a case under a legal hold (kept whatever its retention date), or release it.
    Hold {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// Release the hold instead.
        #[arg(long)]
        release: bool,
        /// Read the reason from this file, or - for standard input.
        #[arg(long, conflicts_with = "release")]
        reason_file: Option<PathBuf>,
    },
    /// Remove a case's content from this store at its retention date (messages, sealed
    /// originals, the team's notes); its register line stays. Refused before that date and
    /// under a legal hold.
    Purge {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
    },
    /// A case's whole thread.
    Show {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id (or its first characters).
        case: String,
    },
    /// Reply to the reporter (sealed to the reporter and to the chosen recipients).
    Reply {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// Send the standard acknowledgement of receipt (Dutch and English).
        #[arg(long)]
        ack: bool,
        /// Read the reply from this file, or - for standard input.
        #[arg(long)]
        message_file: Option<PathBuf>,
        /// A file to attach; repeat for several.
        #[arg(long)]
        attach: Vec<PathBuf>,
        /// Send images as they are, metadata included.
        #[arg(long)]
        keep_metadata: bool,
    },
    /// Set a case's status for the whole team (new, acknowledged, in-investigation,
    /// feedback-given, closed, aftercare): a signed record every colleague's client takes in.
    Status {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// The status.
        status: String,
    },
    /// Assign a case to yourself, to a colleague (their office key, mpok1…) or to nobody.
    Assign {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// Assign it to yourself.
        #[arg(long, conflicts_with_all = ["to", "nobody"])]
        me: bool,
        /// Assign it to the colleague with this office key (see meldpunt directory show).
        #[arg(long, conflicts_with = "nobody")]
        to: Option<String>,
        /// Assign it to nobody.
        #[arg(long)]
        nobody: bool,
    },
    /// Add a label to a case (or remove it), for the whole team.
    Label {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// The label (1 to 40 characters).
        label: String,
        /// Remove the label instead.
        #[arg(long)]
        remove: bool,
    },
    /// Add an internal note to a case: read by the office team only, never by the reporter.
    Note {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// Read the note from this file, or - for standard input (never from the command
        /// line, which other users of the machine can see).
        #[arg(long)]
        message_file: Option<PathBuf>,
    },
    /// Appoint a process guide (a recipient of role process-guide in the directory) to a case:
    /// the reporter is told in a signed reply and seals to the guide from then on, and the
    /// case's history is handed over to the guide. --remove: the guide leaves the case.
    AppointGuide {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// The process guide's recipient id in the directory (e.g. process-guide).
        #[arg(long)]
        guide: String,
        /// The guide leaves the case instead.
        #[arg(long)]
        remove: bool,
    },
    /// Record an oral report (a telephone call or a meeting): the transcript or minutes are
    /// sealed as a new report signed as recorded by you, and its receipt code is shown once,
    /// to hand to the reporter on paper, who then confirms or corrects the record.
    Intake {
        #[command(flatten)]
        options: InboxOptions,
        /// How the report was made.
        #[arg(long, value_enum)]
        channel: IntakeChannel,
        /// The transcript or minutes, from this file or - for standard input.
        #[arg(long)]
        message_file: Option<PathBuf>,
        /// An answer to the organisation's questions, as QUESTION=ANSWER; repeat for several.
        /// Other users of this computer can see arguments: prefer --answers-file.
        #[arg(long, value_name = "QUESTION=ANSWER")]
        answer: Vec<String>,
        /// Read answers from this file, one QUESTION=ANSWER per line.
        #[arg(long)]
        answers_file: Option<PathBuf>,
    },
    /// Close a case (for the whole team). A report's reporter is told in a closing message
    /// that invites them to evaluate the process.
    Close {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// The closing message, from this file or - for standard input (default: a standard
        /// text in Dutch and English).
        #[arg(long, conflicts_with = "silently")]
        message_file: Option<PathBuf>,
        /// Close without telling the reporter (no evaluation is offered).
        #[arg(long)]
        silently: bool,
    },
    /// Reopen a closed case.
    Reopen {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
    },
    /// Remind of overdue deadlines, deadlines due soon and new messages, as a desktop
    /// notification (for a timer: docs/office-app.md). Fetches first when the identity has no
    /// passphrase; with one, reminds from the deadlines the last save left.
    Remind {
        #[command(flatten)]
        options: InboxOptions,
        /// Also remind of deadlines due within this many days.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=92))]
        within_days: u32,
        /// Only print the reminder; raise no desktop notification.
        #[arg(long)]
        print: bool,
    },
    /// Hand cases over to a colleague of your recipient who joined later: every message,
    /// re-sealed to their key alone and signed with yours, through the relay (which the
    /// reporter never sees and which cannot read them). They get them at their next sync.
    #[command(group(clap::ArgGroup::new("cases").required(true).args(["case", "open"])))]
    HandOver {
        #[command(flatten)]
        options: InboxOptions,
        /// The colleague's age public key (age1…), as the signed directory lists it under
        /// your recipient.
        #[arg(long)]
        to: String,
        /// A case id (or its first characters); repeat for several.
        #[arg(long)]
        case: Vec<String>,
        /// Every case that is not closed.
        #[arg(long)]
        open: bool,
    },
    /// Export a case for an investigation file.
    Export {
        #[command(flatten)]
        options: InboxOptions,
        /// The case id.
        case: String,
        /// The folder to create.
        #[arg(long)]
        out: PathBuf,
    },
}

fn inbox(
    options: InboxOptions,
    json: bool,
    needs_relay: bool,
    config: &Config,
) -> Result<inbox::Inbox> {
    let identity = options
        .identity
        .or_else(|| config.identity.clone())
        .ok_or_else(|| {
            CliError::Usage(
                "give the office identity with --identity FILE (or MELDPUNT_IDENTITY)".into(),
            )
        })?;
    let relay = if needs_relay || options.relay.relay.is_some() || config.relay.is_some() {
        Some(options.relay.relay(config)?)
    } else {
        None
    };
    Ok(inbox::Inbox {
        store: options.store.unwrap_or_else(paths::default_store),
        aftercare_months: config
            .aftercare_months
            .unwrap_or(meldpunt_cli::store::DEFAULT_AFTERCARE_MONTHS),
        retention_months: config
            .retention_months
            .unwrap_or(meldpunt_cli::store::DEFAULT_RETENTION_MONTHS),
        identity,
        relay,
        directory_key: options.relay.directory_key(config),
        json,
    })
}

fn parse_role(role: &str) -> Result<Role> {
    role.parse().map_err(|_| {
        CliError::Usage(format!(
            "unknown role {role}; the roles are {}",
            Role::ALL.map(Role::as_str).join(", ")
        ))
    })
}

fn run(arguments: Arguments) -> Result<()> {
    meldpunt_cli::clock::check_override()?;
    let config = Config::load()?;
    let json = arguments.json;
    match arguments.command {
        Command::Report {
            opening,
            carry_consultation,
            consultation_receipt_file,
        } => opening.send(
            meldpunt_crypto::Conversation::Report,
            carry_consultation.then_some(consultation_receipt_file.as_deref()),
            json,
            &config,
        ),
        Command::Ask { opening } => opening.send(
            meldpunt_crypto::Conversation::Consultation,
            None,
            json,
            &config,
        ),
        Command::Check {
            relay,
            receipt_file,
            save_attachments,
        } => {
            let common = relay.reporter(json, &config)?;
            reporter::check(
                &common,
                receipt_file.as_deref(),
                save_attachments.as_deref(),
            )
        }
        Command::ShareIdentity {
            relay,
            receipt_file,
            with,
            identity_file,
            message_file,
        } => {
            let common = relay.reporter(json, &config)?;
            reporter::share_identity(
                &common,
                receipt_file.as_deref(),
                &with,
                identity_file.as_deref(),
                message_file.as_deref(),
            )
        }
        Command::Confirm {
            relay,
            receipt_file,
            agree: _,
            corrections_file,
        } => {
            let common = relay.reporter(json, &config)?;
            reporter::confirm(
                &common,
                receipt_file.as_deref(),
                corrections_file.as_deref(),
            )
        }
        Command::Evaluate {
            relay,
            receipt_file,
            answer,
            answers_file,
            message_file,
        } => {
            let common = relay.reporter(json, &config)?;
            reporter::evaluate(
                &common,
                receipt_file.as_deref(),
                &answer,
                answers_file.as_deref(),
                message_file.as_deref(),
            )
        }
        Command::FollowUp {
            relay,
            receipt_file,
            message_file,
            attach,
            keep_metadata,
        } => {
            let common = relay.reporter(json, &config)?;
            reporter::follow_up(
                &common,
                receipt_file.as_deref(),
                message_file.as_deref(),
                &attach,
                keep_metadata,
            )
        }
        Command::Keygen {
            out,
            passphrase,
            pq,
        } => office::keygen(&out, passphrase, pq, json),
        Command::Directory(command) => match command {
            DirectoryCommand::Init { files } => office::init(&files.file, &files.signing_key, json),
            DirectoryCommand::AddRecipient {
                files,
                organisation,
                organisation_name_nl,
                organisation_name_en,
                recipient,
                role,
                name_nl,
                name_en,
                key,
                signing_key,
            } => {
                let role = parse_role(&role)?;
                office::add_recipient(
                    &files.file,
                    office::NewRecipient {
                        organisation,
                        organisation_name: organisation_name_nl.zip(organisation_name_en),
                        recipient,
                        role,
                        name: (name_nl, name_en),
                        keys: key,
                        signing_keys: signing_key,
                    },
                )
            }
            DirectoryCommand::AddMember { member } => office::add_member(
                &member.chosen.files.file,
                &member.chosen.organisation,
                &member.chosen.recipient,
                &member.key,
                &member.signing_key,
            ),
            DirectoryCommand::AddRecoveryKey { chosen, key } => office::add_recovery_key(
                &chosen.files.file,
                &chosen.organisation,
                &chosen.recipient,
                &key,
            ),
            DirectoryCommand::RetireMember { member } => office::retire_member(
                &member.chosen.files.file,
                &member.chosen.organisation,
                &member.chosen.recipient,
                &member.key,
                &member.signing_key,
            ),
            DirectoryCommand::ChangeRecipient {
                chosen,
                role,
                name_nl,
                name_en,
            } => {
                let role = role.map(|role| parse_role(&role)).transpose()?;
                office::change_recipient(
                    &chosen.files.file,
                    &chosen.organisation,
                    &chosen.recipient,
                    role,
                    (name_nl, name_en),
                )
            }
            DirectoryCommand::Questions { part } => part.set(office::OrganisationPart::Questions),
            DirectoryCommand::Channels { part } => part.set(office::OrganisationPart::Channels),
            DirectoryCommand::RemoveRecipient { chosen } => office::remove_recipient(
                &chosen.files.file,
                &chosen.organisation,
                &chosen.recipient,
            ),
            DirectoryCommand::Sign {
                files,
                out,
                valid_days,
            } => office::sign(&files.file, &files.signing_key, &out, valid_days, json),
            DirectoryCommand::Show {
                file,
                directory_key,
            } => office::show(&file, directory_key.as_deref(), json),
            DirectoryCommand::History { relay } => office::history(&relay.reporter(json, &config)?),
        },
        Command::Office {
            options,
            listen,
            no_open,
            sync_minutes,
            idle_minutes,
        } => meldpunt_cli::office_app::run(
            inbox(options, json, true, &config)?,
            meldpunt_cli::office_app::AppOptions {
                listen,
                open: !no_open,
                sync_minutes,
                idle_minutes,
            },
        ),
        Command::Inbox(command) => match command {
            InboxCommand::Sync { options } => inbox(options, json, true, &config)?.sync(),
            InboxCommand::List { options, overdue } => {
                inbox(options, json, false, &config)?.list(overdue)
            }
            InboxCommand::Register { options, csv } => {
                inbox(options, json, false, &config)?.register(csv)
            }
            InboxCommand::Stats {
                options,
                csv,
                from,
                to,
            } => {
                let day = |text: Option<String>| {
                    text.map(|text| {
                        text.parse::<meldpunt_crypto::Day>().map_err(|_| {
                            CliError::Usage(format!("{text} is not a day; write it as YYYY-MM-DD"))
                        })
                    })
                    .transpose()
                };
                inbox(options, json, false, &config)?.stats(csv, day(from)?, day(to)?)
            }
            InboxCommand::Retention {
                options,
                case,
                until,
                reason_file,
            } => {
                let until = until.parse::<meldpunt_crypto::Day>().map_err(|_| {
                    CliError::Usage(format!("{until} is not a day; write it as YYYY-MM-DD"))
                })?;
                inbox(options, json, false, &config)?.set_retention(
                    &case,
                    until,
                    reason_file.as_deref(),
                )
            }
            InboxCommand::Hold {
                options,
                case,
                release,
                reason_file,
            } => inbox(options, json, false, &config)?.set_hold(
                &case,
                release,
                reason_file.as_deref(),
            ),
            InboxCommand::Purge { options, case } => {
                inbox(options, json, false, &config)?.purge(&case)
            }
            InboxCommand::Show { options, case } => {
                inbox(options, json, false, &config)?.show(&case)
            }
            InboxCommand::Reply {
                options,
                case,
                ack,
                message_file,
                attach,
                keep_metadata,
            } => inbox(options, json, true, &config)?.reply(
                &case,
                ack,
                message_file.as_deref(),
                &attach,
                keep_metadata,
            ),
            InboxCommand::Intake {
                options,
                channel,
                message_file,
                answer,
                answers_file,
            } => inbox(options, json, true, &config)?.intake(
                match channel {
                    IntakeChannel::Telephone => meldpunt_crypto::Channel::Telephone,
                    IntakeChannel::Meeting => meldpunt_crypto::Channel::Meeting,
                },
                message_file.as_deref(),
                &answer,
                answers_file.as_deref(),
            ),
            InboxCommand::Close {
                options,
                case,
                message_file,
                silently,
            } => {
                inbox(options, json, true, &config)?.close(&case, message_file.as_deref(), silently)
            }
            InboxCommand::Reopen { options, case } => {
                inbox(options, json, true, &config)?.reopen(&case)
            }
            InboxCommand::AppointGuide {
                options,
                case,
                guide,
                remove,
            } => inbox(options, json, true, &config)?.appoint_guide(&case, &guide, remove),
            InboxCommand::Status {
                options,
                case,
                status,
            } => inbox(options, json, true, &config)?.set_status(&case, &status),
            InboxCommand::Assign {
                options,
                case,
                me,
                to,
                nobody,
            } => {
                if !me && !nobody && to.is_none() {
                    return Err(CliError::Usage(
                        "say who: --me, --to OFFICE_KEY or --nobody".into(),
                    ));
                }
                inbox(options, json, true, &config)?.assign(&case, to.as_deref(), me)
            }
            InboxCommand::Label {
                options,
                case,
                label,
                remove,
            } => inbox(options, json, true, &config)?.label(&case, &label, remove),
            InboxCommand::Note {
                options,
                case,
                message_file,
            } => inbox(options, json, true, &config)?.note(&case, message_file.as_deref()),
            InboxCommand::Remind {
                options,
                within_days,
                print,
            } => inbox(options, json, false, &config)?.remind(within_days, print),
            InboxCommand::HandOver {
                options,
                to,
                case,
                open,
            } => inbox(options, json, true, &config)?.hand_over(&to, &case, open),
            InboxCommand::Export { options, case, out } => {
                inbox(options, json, false, &config)?.export(&case, &out)
            }
        },
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Arguments::command(),
                "meldpunt",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Arguments::command())
            .render(&mut std::io::stdout())
            .map_err(|error| CliError::Local(error.to_string())),
    }
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    let json = arguments.json;
    match run(arguments) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if json {
                let code = match &error {
                    CliError::Refused { code, .. } => code.clone(),
                    CliError::Usage(_) => "usage".into(),
                    CliError::Local(_) => "local".into(),
                    CliError::Unreachable { .. } => "unreachable".into(),
                    CliError::Verification(_) => "verification".into(),
                };
                eprintln!(
                    "{}",
                    serde_json::json!({ "error": code, "message": error.to_string() })
                );
            } else {
                eprintln!("meldpunt: {error}");
            }
            error.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subcommand's options are consistent (clap checks names, ids and defaults): an
    /// option two flattened groups both define would otherwise surface only when a user
    /// runs that command.
    #[test]
    fn the_command_line_is_consistent() {
        Arguments::command().debug_assert();
    }
}
