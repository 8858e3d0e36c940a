/** Reads the access token of a request, from the Authorization header or the query string. */
export function accessToken(url, headers) {
    const header = headers.authorization;
    if (header !== undefined) {
        const match = /^Bearer\s+(.+)$/i.exec(header);
        if (match !== null)
            return match[1];
    }
    return url.searchParams.get('access_token') ?? undefined;
}
