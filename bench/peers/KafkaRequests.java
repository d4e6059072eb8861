// The broker's request counters (kafka.network RequestMetrics), read over JMX: run by kafka_requests.py
// with `java KafkaRequests.java PORT` (a single-file program: nothing to build).
import javax.management.*;
import javax.management.remote.*;
import java.util.*;

public class KafkaRequests {
    public static void main(String[] args) throws Exception {
        JMXServiceURL url = new JMXServiceURL("service:jmx:rmi:///jndi/rmi://127.0.0.1:" + args[0] + "/jmxrmi");
        try (JMXConnector c = JMXConnectorFactory.connect(url)) {
            MBeanServerConnection s = c.getMBeanServerConnection();
            for (ObjectName n : s.queryNames(new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
                Object count = s.getAttribute(n, "Count");
                System.out.println(n.getKeyProperty("request") + " " + count);
            }
        }
    }
}
