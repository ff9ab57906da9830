// Runs kafka-clients' own OAuthBearerLoginCallbackHandler on a
// client.properties file: the configuration is parsed and validated as a
// Kafka client does (AdminClientConfig, JaasContext), the handler is
// configured, and one token is fetched from the file's token endpoint.
// Prints "principal=<name>" on success; exits 2 on failure.
//
// java -Dorg.apache.kafka.sasl.oauthbearer.allowed.urls=... \
//      -Dorg.apache.kafka.sasl.oauthbearer.allowed.files=... \
//      -cp 'lib/*' KafkaLoginCheck.java client.properties
import java.io.FileInputStream;
import java.util.Properties;
import javax.security.auth.callback.Callback;
import java.util.List;
import javax.security.auth.login.AppConfigurationEntry;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.security.JaasContext;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerTokenCallback;

public class KafkaLoginCheck {
    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        try (FileInputStream in = new FileInputStream(args[0])) {
            p.load(in);
        }
        AdminClientConfig config = new AdminClientConfig(p);
        List<AppConfigurationEntry> entries = JaasContext.loadClientContext(config.values()).configurationEntries();
        OAuthBearerLoginCallbackHandler handler = new OAuthBearerLoginCallbackHandler();
        try {
            handler.configure(config.values(), "OAUTHBEARER", entries);
            OAuthBearerTokenCallback cb = new OAuthBearerTokenCallback();
            handler.handle(new Callback[] {cb});
            if (cb.token() == null) {
                System.out.println("no token: " + cb.errorCode() + " " + cb.errorDescription());
                System.exit(2);
            }
            System.out.println("principal=" + cb.token().principalName());
        } catch (Exception e) {
            System.out.println("refused: " + e);
            System.exit(2);
        } finally {
            handler.close();
        }
    }
}
