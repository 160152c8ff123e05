// The server side of a sign-in with one Node HTTP client, the hostnames hard-coded and no proxy
// or CA named: only the environment sends it through mock-ims's proxy.
//   node client.mjs fetch|axios CODE CLIENT_ID CLIENT_SECRET REDIRECT_URI
// fetch needs HTTPS_PROXY honoured: NODE_OPTIONS=--import=./use-env-proxy.mjs on Node 20.
import axios from "axios";

const [library, code, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const basic = "Basic " + Buffer.from(`${clientId}:${clientSecret}`).toString("base64");
const form = new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri });
const lightroom = (text) => JSON.parse(String(text).replace(/^while\s*\(\s*1\s*\)\s*{\s*}\s*/, ""));

async function withFetch() {
  const token = await (await fetch("https://ims-na1.adobelogin.com/ims/token/v3", {
    method: "POST", headers: { Authorization: basic }, body: form,
  })).json();
  const bearer = { Authorization: `Bearer ${token.access_token}` };
  const profile = await (await fetch("https://ims-na1.adobelogin.com/ims/profile/v1", { headers: bearer })).json();
  const account = await (await fetch("https://lr.adobe.io/v2/account", { headers: { ...bearer, "X-API-Key": clientId } })).text();
  return [profile, lightroom(account)];
}

async function withAxios() {
  const token = (await axios.post("https://ims-na1.adobelogin.com/ims/token/v3", form, { headers: { Authorization: basic } })).data;
  const bearer = { Authorization: `Bearer ${token.access_token}` };
  const profile = (await axios.get("https://ims-na1.adobelogin.com/ims/profile/v1", { headers: bearer })).data;
  const account = (await axios.get("https://lr.adobe.io/v2/account", {
    headers: { ...bearer, "X-API-Key": clientId }, responseType: "text", transformResponse: (t) => t,
  })).data;
  return [profile, lightroom(account)];
}

const [profile, account] = await (library === "fetch" ? withFetch() : withAxios());
console.log(JSON.stringify({ email: profile.email, lightroom_email: account.email }));
