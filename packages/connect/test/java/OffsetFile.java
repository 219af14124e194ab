import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Kafka Connect's FileOffsetBackingStore file, as Java itself reads and writes it: a HashMap of
 * byte[] keys to byte[] values through ObjectInputStream / ObjectOutputStream.
 *   read <file>                      prints "key<TAB>value" lines (UTF-8, "null" for null), sorted
 *   write <file> <key> <value> ...   writes the map ("null" as a value writes null)
 */
public class OffsetFile {
    public static void main(String[] args) throws Exception {
        if (args[0].equals("read")) {
            try (ObjectInputStream in = new ObjectInputStream(new FileInputStream(args[1]))) {
                @SuppressWarnings("unchecked")
                Map<byte[], byte[]> map = (Map<byte[], byte[]>) in.readObject();
                List<String> lines = new ArrayList<>();
                for (Map.Entry<byte[], byte[]> e : map.entrySet()) lines.add(text(e.getKey()) + "\t" + text(e.getValue()));
                Collections.sort(lines);
                for (String line : lines) System.out.println(line);
            }
            return;
        }
        Map<byte[], byte[]> map = new HashMap<>();
        for (int i = 2; i + 1 < args.length; i += 2) map.put(bytes(args[i]), bytes(args[i + 1]));
        try (ObjectOutputStream out = new ObjectOutputStream(new FileOutputStream(args[1]))) {
            out.writeObject(map);
        }
    }

    private static String text(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.equals("null") ? null : s.getBytes(StandardCharsets.UTF_8);
    }
}
