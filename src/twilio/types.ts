/**
 * The Message resource as Twilio's 2010-04-01 API returns it. Every field may
 * be null; counts are decimal strings.
 */
export interface TwilioMessage {
	sid: string;
	account_sid: string | null;
	messaging_service_sid: string | null;
	to: string | null;
	from: string | null;
	body: string | null;
	status: string;
	direction: string | null;
	num_segments: string | null;
	num_media: string | null;
	error_code: number | null;
	error_message: string | null;
	date_created: string | null;
	date_sent: string | null;
	date_updated: string | null;
	uri: string | null;
}

/** One page of `GET /2010-04-01/Accounts/{sid}/Messages.json`. */
export interface TwilioMessagePage {
	messages: TwilioMessage[];
	next_page_uri: string | null;
}

/** Twilio's error body: `{code, message, more_info, status}`. */
export interface TwilioErrorBody {
	code?: number;
	message?: string;
	more_info?: string;
	status?: number;
}
