// The server side of a sign-in with Java's own HttpClient, the hostnames hard-coded and no proxy
// or truststore named: JAVA_TOOL_OPTIONS (-Dhttps.proxyHost, -Djavax.net.ssl.trustStore) does it.
//   java ImsClient.java CODE CLIENT_ID CLIENT_SECRET REDIRECT_URI
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class ImsClient {
    static String field(String json, String name) {
        Matcher match = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        if (!match.find()) throw new IllegalStateException("no " + name + " in " + json);
        return match.group(1);
    }

    static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws Exception {
        String code = args[0], clientId = args[1], clientSecret = args[2], redirectUri = args[3];
        // No proxy named: the JDK's default ProxySelector reads -Dhttps.proxyHost and -Dhttps.proxyPort.
        HttpClient http = HttpClient.newHttpClient();
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + clientSecret).getBytes(StandardCharsets.UTF_8));
        String form = "grant_type=authorization_code&code=" + encode(code) + "&redirect_uri=" + encode(redirectUri);
        HttpResponse<String> token = http.send(
            HttpRequest.newBuilder(URI.create("https://ims-na1.adobelogin.com/ims/token/v3"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form))
                .build(),
            HttpResponse.BodyHandlers.ofString());
        String bearer = "Bearer " + field(token.body(), "access_token");
        HttpResponse<String> profile = http.send(
            HttpRequest.newBuilder(URI.create("https://ims-na1.adobelogin.com/ims/profile/v1"))
                .header("Authorization", bearer).build(),
            HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> account = http.send(
            HttpRequest.newBuilder(URI.create("https://lr.adobe.io/v2/account"))
                .header("Authorization", bearer).header("X-API-Key", clientId).build(),
            HttpResponse.BodyHandlers.ofString());
        System.out.println("{\"email\": \"" + field(profile.body(), "email") + "\", \"lightroom_email\": \""
            + field(account.body(), "email") + "\"}");
    }
}
