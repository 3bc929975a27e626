//! Every sentence of the web form, in Dutch (the default) and English.
//!
//! The language is chosen by a link (`?lang=en`), never by a cookie or the browser's
//! `Accept-Language` (which would be one more fingerprinting bit to read).
//!
//! This module holds only fixed text; it must never hold anything a reporter wrote.

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Nederlands, the default.
    Dutch,
    /// English.
    English,
}

impl Language {
    /// From the `lang` query or form field: `en` is English, anything else Dutch.
    pub fn from_code(code: Option<&str>) -> Language {
        match code {
            Some("en") => Language::English,
            _ => Language::Dutch,
        }
    }

    /// The BCP 47 code for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Dutch => "nl",
            Language::English => "en",
        }
    }

    /// The other language (for the switch link).
    pub fn other(self) -> Language {
        match self {
            Language::Dutch => Language::English,
            Language::English => Language::Dutch,
        }
    }

    /// The query suffix that keeps this language on a link: empty for Dutch.
    pub fn query(self) -> &'static str {
        match self {
            Language::Dutch => "",
            Language::English => "?lang=en",
        }
    }

    /// The fixed text of this language.
    pub fn text(self) -> &'static Text {
        match self {
            Language::Dutch => &DUTCH,
            Language::English => &ENGLISH,
        }
    }
}

/// The fixed text of the pages.
#[derive(Debug)]
pub struct Text {
    pub switch_language: &'static str,
    pub site_name: &'static str,
    pub skip_to_content: &'static str,
    pub navigation_label: &'static str,
    pub start_title: &'static str,
    pub start_lead: &'static str,
    pub start_recipients_heading: &'static str,
    pub start_how_heading: &'static str,
    pub start_how: [&'static str; 3],
    pub start_protect_heading: &'static str,
    pub start_protect: [&'static str; 5],
    pub start_report_button: &'static str,
    pub start_check_button: &'static str,
    pub report_title: &'static str,
    pub report_lead: &'static str,
    pub report_organisation: &'static str,
    pub report_recipients: &'static str,
    pub report_recipients_hint: &'static str,
    pub report_body: &'static str,
    pub report_body_hint: &'static str,
    pub report_attachment: &'static str,
    pub report_attachment_hint: &'static str,
    pub report_submit: &'static str,
    pub mode_script: &'static str,
    pub mode_no_script: &'static str,
    pub mode_no_script_check: &'static str,
    pub mode_script_check: &'static str,
    pub receipt_title: &'static str,
    pub receipt_lead: &'static str,
    pub receipt_code_label: &'static str,
    pub receipt_warning: [&'static str; 3],
    pub receipt_next: &'static str,
    pub check_title: &'static str,
    pub check_lead: &'static str,
    pub check_code: &'static str,
    pub check_code_hint: &'static str,
    pub check_submit: &'static str,
    pub thread_title: &'static str,
    pub thread_you: &'static str,
    pub thread_you_follow_up: &'static str,
    pub thread_unreadable: &'static str,
    pub thread_unreadable_detail: &'static str,
    pub thread_missing: &'static str,
    pub thread_acknowledgement: &'static str,
    pub thread_written: &'static str,
    pub thread_no_reply: &'static str,
    pub thread_download: &'static str,
    pub follow_up_title: &'static str,
    pub follow_up_body: &'static str,
    pub follow_up_submit: &'static str,
    pub follow_up_sent: &'static str,
    pub working: &'static str,
    pub working_stamp: &'static str,
    pub error_summary: &'static str,
    pub error_empty_body: &'static str,
    pub error_body_too_long: &'static str,
    pub error_no_organisation: &'static str,
    pub error_no_recipient: &'static str,
    pub error_attachment_too_large: &'static str,
    pub error_attachment_name: &'static str,
    pub error_attachment_image: &'static str,
    pub error_code_length: &'static str,
    pub error_code_character: &'static str,
    pub error_code_checksum: &'static str,
    pub error_code_checksum_group: &'static str,
    pub error_code_unknown: &'static str,
    pub error_form_expired: &'static str,
    pub error_form_too_fast: &'static str,
    pub error_busy: &'static str,
    pub error_directory: &'static str,
    pub error_relay: &'static str,
    pub error_tampered: &'static str,
    pub error_form_malformed: &'static str,
    pub not_found: &'static str,
    pub footer: &'static str,
}

/// Dutch.
pub static DUTCH: Text = Text {
    switch_language: "English",
    site_name: "Meldpunt",
    skip_to_content: "Naar de inhoud",
    navigation_label: "Hoofdmenu",
    start_title: "Een misstand veilig en anoniem melden",
    start_lead: "Hier meldt u een vermoeden van een misstand bij de integriteitsorganisatie die u kiest. U hebt geen account nodig en wij vragen niet wie u bent.",
    start_recipients_heading: "Wie uw melding ontvangt",
    start_how_heading: "Hoe uw anonimiteit beschermd wordt",
    start_how: [
        "Met JavaScript aan wordt uw melding in uw eigen browser versleuteld voor de ontvangers die u kiest. Deze server ziet alleen versleutelde gegevens en bewaart geen IP-adressen.",
        "Met JavaScript uit (Tor Browser, stand 'Veiligst') versleutelt deze server uw melding direct bij ontvangst, in het geheugen. Op dat moment ziet de server de melding; er wordt niets onversleuteld opgeslagen.",
        "U krijgt een ontvangstcode. Alleen met die code leest u antwoorden en stuurt u aanvullende informatie. Niemand anders kan de code voor u terughalen.",
    ],
    start_protect_heading: "Wat u zelf doet",
    start_protect: [
        "Gebruik Tor Browser, en het liefst het .onion-adres van dit meldpunt.",
        "Gebruik geen apparaat of netwerk van uw werkgever.",
        "Zet geen gegevens in uw melding die naar u wijzen, tenzij u dat zelf wilt. Denk ook aan schrijfstijl en details die maar weinig mensen kennen.",
        "Verwijder metadata (auteur, locatie, camera) uit bestanden voordat u ze bijvoegt. Uit foto's (JPEG, PNG) haalt het meldpunt ze zelf weg als JavaScript uit staat; het programma meldpunt doet dat altijd.",
        "Schrijf uw ontvangstcode op papier en bewaar hem veilig.",
    ],
    start_report_button: "Een melding doen",
    start_check_button: "Antwoorden lezen met een ontvangstcode",
    report_title: "Een melding doen",
    report_lead: "Velden met * zijn verplicht.",
    report_organisation: "Organisatie *",
    report_recipients: "Ontvangers *",
    report_recipients_hint: "Kies wie uw melding mag lezen. Alleen zij kunnen hem ontsleutelen.",
    report_body: "Uw melding *",
    report_body_hint: "Beschrijf wat er gebeurt, waar en sinds wanneer. Hoogstens 512 KiB tekst.",
    report_attachment: "Bijlage (optioneel)",
    report_attachment_hint: "Eén bestand van hoogstens",
    report_submit: "Melding versleutelen en versturen",
    mode_script: "JavaScript staat aan: uw melding wordt in deze browser versleuteld voordat hij wordt verstuurd.",
    mode_no_script: "JavaScript staat uit: deze server versleutelt uw melding bij ontvangst, in het geheugen. Op dat moment ziet de server de inhoud. Wilt u dat niet, zet dan JavaScript aan (Tor Browser-stand 'Standaard' of 'Veiliger') of gebruik het programma meldpunt.",
    mode_no_script_check: "JavaScript staat uit: deze server opent uw gesprek in het geheugen om het te tonen, en ziet het op dat moment. Met JavaScript aan gebeurt dat in deze browser.",
    mode_script_check: "JavaScript staat aan: uw gesprek wordt in deze browser geopend; uw ontvangstcode verlaat dit apparaat niet.",
    receipt_title: "Uw melding is ontvangen",
    receipt_lead: "Uw melding is versleuteld en opgeslagen. Dit is uw ontvangstcode:",
    receipt_code_label: "Ontvangstcode",
    receipt_warning: [
        "Schrijf de code nu op papier. Hij wordt maar één keer getoond.",
        "De code is niet te herstellen: wie hem kwijt is, kan geen antwoorden meer lezen.",
        "Iedereen met de code kan uw gesprek lezen. Bewaar hem niet op een werkapparaat, niet in een bestand, mail of foto.",
    ],
    receipt_next: "Binnen 7 dagen krijgt u een ontvangstbevestiging en binnen 3 maanden een reactie. Kijk hier met uw code of er een antwoord is.",
    check_title: "Antwoorden lezen",
    check_lead: "Vul de ontvangstcode in die u kreeg toen u uw melding deed.",
    check_code: "Ontvangstcode *",
    check_code_hint: "32 tekens in 8 groepen van 4, bijvoorbeeld ABCD-EFGH-… Hoofdletters, spaties en streepjes maken niet uit.",
    check_submit: "Gesprek openen",
    thread_title: "Uw gesprek",
    thread_you: "U (melding)",
    thread_you_follow_up: "U (aanvulling)",
    thread_unreadable: "Een bericht kon niet worden gelezen",
    thread_missing: "eerder(e) bericht(en) van deze afzender ontbreken: de server heeft ze achtergehouden.",
    thread_unreadable_detail: "Dit bericht is niet geschreven door u of door een ontvanger die u koos, of het is onderweg gewijzigd. De andere berichten zijn wel gecontroleerd.",
    thread_acknowledgement: "ontvangstbevestiging",
    thread_written: "geschreven op",
    thread_no_reply: "Nog geen antwoord. Een ontvangstbevestiging volgt binnen 7 dagen na uw melding.",
    thread_download: "Downloaden",
    follow_up_title: "Aanvullende informatie sturen",
    follow_up_body: "Uw aanvulling *",
    follow_up_submit: "Aanvulling versleutelen en versturen",
    follow_up_sent: "Uw aanvulling is ontvangen.",
    working: "Bezig met versleutelen en versturen…",
    working_stamp: "Bezig met de anti-misbruikberekening…",
    error_summary: "Er is iets niet in orde",
    error_empty_body: "Schrijf uw melding in dit veld; het is nu leeg.",
    error_body_too_long: "Uw tekst is langer dan 512 KiB. Maak hem korter of stuur een deel als bijlage.",
    error_no_organisation: "Kies een organisatie uit de lijst.",
    error_no_recipient: "Kies minstens één ontvanger.",
    error_attachment_too_large: "Deze bijlage is groter dan toegestaan.",
    error_attachment_name: "De bestandsnaam van deze bijlage kan niet worden gebruikt. Geef het bestand een andere naam.",
    error_attachment_image: "Dit bestand heet of lijkt een foto (JPEG of PNG), maar is niet te lezen, dus de metadata kunnen er niet uit. Verwijder de metadata zelf en geef het bestand een andere naam.",
    error_code_length: "Een ontvangstcode heeft 32 tekens (8 groepen van 4).",
    error_code_character: "Een ontvangstcode bevat alleen letters en cijfers.",
    error_code_checksum: "Deze code bevat een tikfout.",
    error_code_checksum_group: "Kijk vooral groep",
    error_code_unknown: "Bij deze code hoort geen gesprek. Controleer de code; een gesprek wordt pas na lange tijd zonder activiteit verwijderd.",
    error_form_expired: "Dit formulier is verlopen of al gebruikt. Uw tekst staat hieronder nog; verstuur het formulier opnieuw.",
    error_form_too_fast: "Dit formulier werd te snel verstuurd. Wacht een paar seconden en verstuur het opnieuw.",
    error_busy: "Het meldpunt is op dit moment druk. Wacht een minuut en verstuur het formulier opnieuw; uw tekst staat hieronder nog.",
    error_directory: "De lijst met ontvangers kon niet worden gecontroleerd. Verstuur niets en probeer het later opnieuw.",
    error_relay: "De server weigerde het verzoek:",
    error_tampered: "Een bericht in uw gesprek kan niet worden geopend; het is mogelijk gewijzigd.",
    error_form_malformed: "Het formulier kwam onvolledig of beschadigd aan. Verstuur het opnieuw.",
    not_found: "Deze pagina bestaat niet.",
    footer: "Deze site gebruikt geen cookies, geen externe bronnen en slaat geen IP-adressen op.",
};

/// English.
pub static ENGLISH: Text = Text {
    switch_language: "Nederlands",
    site_name: "Meldpunt",
    skip_to_content: "Skip to content",
    navigation_label: "Main menu",
    start_title: "Report wrongdoing safely and anonymously",
    start_lead: "Here you report suspected wrongdoing to the integrity organisation you choose. You need no account and we do not ask who you are.",
    start_recipients_heading: "Who receives your report",
    start_how_heading: "How your anonymity is protected",
    start_how: [
        "With JavaScript on, your report is encrypted in your own browser for the recipients you choose. This server sees only encrypted data and keeps no IP addresses.",
        "With JavaScript off (Tor Browser's 'Safest' level), this server encrypts your report in memory the moment it arrives. At that moment the server sees the report; nothing is stored unencrypted.",
        "You get a receipt code. Only with that code can you read replies and send more information. Nobody can recover the code for you.",
    ],
    start_protect_heading: "What you do yourself",
    start_protect: [
        "Use Tor Browser, preferably with this service's .onion address.",
        "Do not use a device or network of your employer.",
        "Leave out details that point to you, unless you choose to include them. Mind your writing style and facts only few people know.",
        "Remove metadata (author, location, camera) from files before attaching them. From photos (JPEG, PNG) the service removes it itself when JavaScript is off; the meldpunt program always does.",
        "Write your receipt code down on paper and keep it safe.",
    ],
    start_report_button: "Make a report",
    start_check_button: "Read replies with a receipt code",
    report_title: "Make a report",
    report_lead: "Fields marked * are required.",
    report_organisation: "Organisation *",
    report_recipients: "Recipients *",
    report_recipients_hint: "Choose who may read your report. Only they can decrypt it.",
    report_body: "Your report *",
    report_body_hint: "Describe what happens, where and since when. At most 512 KiB of text.",
    report_attachment: "Attachment (optional)",
    report_attachment_hint: "One file of at most",
    report_submit: "Encrypt and send the report",
    mode_script: "JavaScript is on: your report is encrypted in this browser before it is sent.",
    mode_no_script: "JavaScript is off: this server encrypts your report in memory as it arrives. At that moment the server sees its content. If you do not want that, turn JavaScript on (Tor Browser level 'Standard' or 'Safer') or use the meldpunt program.",
    mode_no_script_check: "JavaScript is off: this server opens your conversation in memory to show it, and sees it at that moment. With JavaScript on, that happens in this browser.",
    mode_script_check: "JavaScript is on: your conversation is opened in this browser; your receipt code does not leave this device.",
    receipt_title: "Your report was received",
    receipt_lead: "Your report was encrypted and stored. This is your receipt code:",
    receipt_code_label: "Receipt code",
    receipt_warning: [
        "Write the code down on paper now. It is shown only this once.",
        "The code cannot be recovered: without it you cannot read replies.",
        "Anyone with the code can read your conversation. Do not keep it on a work device, nor in a file, mail or photo.",
    ],
    receipt_next: "Within 7 days you get an acknowledgement of receipt, and within 3 months a response. Come back here with your code to see replies.",
    check_title: "Read replies",
    check_lead: "Enter the receipt code you got when you made your report.",
    check_code: "Receipt code *",
    check_code_hint: "32 characters in 8 groups of 4, for example ABCD-EFGH-… Case, spaces and dashes do not matter.",
    check_submit: "Open the conversation",
    thread_title: "Your conversation",
    thread_you: "You (report)",
    thread_you_follow_up: "You (follow-up)",
    thread_unreadable: "A message could not be read",
    thread_missing: "earlier message(s) from this sender are missing: the server withheld them.",
    thread_unreadable_detail: "This message was not written by you or by a recipient you chose, or it was altered on the way. The other messages were checked.",
    thread_acknowledgement: "acknowledgement of receipt",
    thread_written: "written on",
    thread_no_reply: "No reply yet. An acknowledgement of receipt is due within 7 days of your report.",
    thread_download: "Download",
    follow_up_title: "Send more information",
    follow_up_body: "Your follow-up *",
    follow_up_submit: "Encrypt and send the follow-up",
    follow_up_sent: "Your follow-up was received.",
    working: "Encrypting and sending…",
    working_stamp: "Doing the anti-abuse computation…",
    error_summary: "Something is not right",
    error_empty_body: "Write your report in this field; it is empty now.",
    error_body_too_long: "Your text is longer than 512 KiB. Shorten it or send part of it as an attachment.",
    error_no_organisation: "Choose an organisation from the list.",
    error_no_recipient: "Choose at least one recipient.",
    error_attachment_too_large: "This attachment is larger than allowed.",
    error_attachment_name: "This attachment's file name cannot be used. Rename the file.",
    error_attachment_image: "This file is named or looks like a photo (JPEG or PNG) but cannot be read, so its metadata cannot be removed. Remove the metadata yourself and rename the file.",
    error_code_length: "A receipt code has 32 characters (8 groups of 4).",
    error_code_character: "A receipt code contains only letters and digits.",
    error_code_checksum: "This code contains a typing error.",
    error_code_checksum_group: "Look at group",
    error_code_unknown: "No conversation belongs to this code. Check the code; a conversation is deleted only after a long time without activity.",
    error_form_expired: "This form has expired or was used already. Your text is still below; send the form again.",
    error_form_too_fast: "This form was sent too quickly. Wait a few seconds and send it again.",
    error_busy: "The service is busy right now. Wait a minute and send the form again; your text is still below.",
    error_directory: "The list of recipients could not be verified. Do not send anything and try again later.",
    error_relay: "The server refused the request:",
    error_tampered: "A message in your conversation cannot be opened; it may have been altered.",
    error_form_malformed: "The form arrived incomplete or damaged. Send it again.",
    not_found: "This page does not exist.",
    footer: "This site uses no cookies and no external resources, and keeps no IP addresses.",
};
